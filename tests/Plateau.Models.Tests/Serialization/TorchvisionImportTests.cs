using Plateau.Models.Architecture;
using Plateau.Models.Serialization;
using Plateau.Models.Tests.Support;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.Serialization;

/// <summary>A state dict PyTorch wrote loads into Plateau's model of the same name and gives the same logits.</summary>
public sealed class TorchvisionImportTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("plateau-torchvision-import-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ATorchvisionStateDictWithoutBatchCountersLoadsAndGivesTorchvisionsLogits()
    {
        var (exitCode, output) = await TorchvisionScript.RunAsync("make-import", _folder, "resnet18", "10");
        Assert.True(exitCode == 0, output);
        using var model = ModelRegistry.Create("resnet18", new ModelOptions { NumClasses = 10 });
        using (var fill = no_grad())
        {
            foreach (var (_, tensor) in StateDict.Ordered(model).Where(t => t.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)))
            {
                tensor.fill_(5);
            }
        }

        ModelWeights.Load(model, Path.Combine(_folder, "weights.safetensors"));
        model.eval();
        using var probe = SafeTensors.Load(Path.Combine(_folder, "probe.safetensors"));
        var input = probe.Tensors.Single(t => t.Key == "input").Value;
        var expected = probe.Tensors.Single(t => t.Key == "logits").Value;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.forward(input);

        var counters = StateDict.Ordered(model).Where(t => t.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        Assert.Equal(20, counters.Count);
        Assert.All(counters, c => Assert.Equal(0L, c.Value.item<long>()));
        var difference = (logits - expected).abs().max().item<float>();
        Assert.True(allclose(logits, expected, rtol: 1e-4, atol: 1e-4), $"max |logit difference| {difference} (torchvision: {output.Trim()})");
    }
}
