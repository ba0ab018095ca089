using Plateau.Models.Layers;
using Plateau.Models.Tests.Support;
using Plateau.Models.Architecture;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.Layers;

public class SqueezeExcitationTests
{
    public static TheoryData<SqueezeMode, GateFunction> Ablations()
    {
        var data = new TheoryData<SqueezeMode, GateFunction>();
        foreach (var squeeze in Enum.GetValues<SqueezeMode>())
        {
            foreach (var gate in Enum.GetValues<GateFunction>())
            {
                data.Add(squeeze, gate);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Ablations))]
    public void EveryAblationOfSeResNet20Trains(SqueezeMode squeeze, GateFunction gate)
    {
        var options = new ModelOptions
        {
            NumClasses = 5,
            SqueezeExcitation = new SqueezeExcitationOptions { Squeeze = squeeze, Gate = gate, Reduction = 4 },
        };
        using var model = ModelRegistry.Create("se_resnet20_cifar", options);
        var loss = TrainingStep.Run(model, batch: 2, size: 16, classes: 5);
        Assert.True(float.IsFinite(loss));
    }

    [Fact]
    public void AverageSqueezeWithSigmoidGateScalesEachChannelByOneWeight()
    {
        using var se = new SqueezeExcitation(8, 2, new SqueezeExcitationOptions());
        using var noGrad = no_grad();
        using var input = rand(1, 8, 5, 5) + 0.1;
        using var output = se.call(input);
        using var ratio = output / input;
        // One weight per channel, in (0, 1): the ratio is constant over each map.
        using var spread = ratio.amax([2, 3]) - ratio.amin([2, 3]);
        Assert.True(spread.lt(1e-5).all().item<bool>());
        Assert.True(ratio.gt(0).all().item<bool>() && ratio.lt(1).all().item<bool>());
    }

    [Fact]
    public void NoSqueezeWeighsEveryPositionSeparately()
    {
        // Seeded: with 4 hidden units a random init can leave every ReLU dead, which makes any gate
        // constant; the property under test is about positions, not about that draw.
        random.manual_seed(20161);
        using var se = new SqueezeExcitation(8, 2, new SqueezeExcitationOptions { Squeeze = SqueezeMode.None });
        using var noGrad = no_grad();
        using var input = rand(1, 8, 5, 5) + 0.1;
        using var output = se.call(input);
        using var ratio = output / input;
        using var spread = ratio.amax([2, 3]) - ratio.amin([2, 3]);
        Assert.True(spread.gt(1e-4).any().item<bool>());
    }
}
