using Plateau.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.Runtime;

public class TorchSharpLoadsTests
{
    [Fact]
    public void LibTorchLoadsAndComputesOnThisOs()
    {
        TrainingProcess.Initialise();
        using var a = ones(2, 3);
        using var b = a.sum();
        Assert.Equal(6f, b.item<float>());
    }

    [Fact]
    public void MallocIsTunedAtStartUp()
    {
        TrainingProcess.Initialise();
        Assert.True(TrainingProcess.MallocTuned);
    }
}
