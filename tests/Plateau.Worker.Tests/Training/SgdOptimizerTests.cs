using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Training;

public sealed class SgdOptimizerTests
{
    [Theory]
    [InlineData(0.9, 1e-4, false)]
    [InlineData(0.9, 5e-4, true)]
    [InlineData(0.0, 0.0, false)]
    public void StepsMatchTorchSgd(double momentum, double weightDecay, bool nesterov)
    {
        using var reference = TinyNets.BatchNormFree(3);
        using var mine = TinyNets.BatchNormFree(3);
        using var torchSgd = optim.SGD(reference.parameters(), 0.1, momentum: momentum, weight_decay: weightDecay, nesterov: nesterov);
        using var sgd = new SgdOptimizer(mine.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), momentum, weightDecay, nesterov);
        double[] rates = [0.1, 0.2, 0.05, 0.05];
        for (var s = 0; s < rates.Length; s++)
        {
            var (x, y) = TinyNets.Batch(s, 8);
            foreach (var group in torchSgd.ParamGroups)
            {
                group.LearningRate = rates[s];
            }

            torchSgd.zero_grad();
            nn.functional.cross_entropy(reference.call(x), y).backward();
            torchSgd.step();

            mine.zero_grad();
            nn.functional.cross_entropy(mine.call(x), y).backward();
            sgd.Step(rates[s]);
        }

        Assert.InRange(TinyNets.MaxDifference(reference, mine), 0f, 1e-6f);
        Assert.Equal(rates.Length, sgd.Steps);
        Assert.Equal(momentum == 0 ? 0 : mine.parameters().Count(), sgd.MomentumBuffers().Count);
    }

    [Fact]
    public void ANegativeOrNonFiniteRateIsRefused()
    {
        using var model = TinyNets.BatchNormFree(1);
        using var sgd = new SgdOptimizer(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), 0.9, 0, false);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.Step(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.Step(-0.1));
    }

    [Fact]
    public void MomentumBuffersOfTheWrongShapeAreRefusedNamingTheParameter()
    {
        using var model = TinyNets.BatchNormFree(1);
        using var sgd = new SgdOptimizer(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), 0.9, 0, false);
        var error = Assert.Throws<ArgumentException>(() => sgd.LoadMomentumBuffers([new("fc.weight", zeros(3, 3))]));
        Assert.Contains("fc.weight", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => sgd.LoadMomentumBuffers([new("nope", zeros(1))]));
    }
}
