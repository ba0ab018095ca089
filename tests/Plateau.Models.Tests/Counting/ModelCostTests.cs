using Plateau.Models.Counting;
using Plateau.Models.Tests.Support;
using Plateau.Models.Architecture;
using Plateau.Models.Zoo;

namespace Plateau.Models.Tests.Counting;

public class ModelCostTests
{
    [Theory]
    [InlineData("resnet18", 11_689_512)]
    [InlineData("resnet34", 21_797_672)]
    [InlineData("resnet50", 25_557_032)]
    [InlineData("resnet101", 44_549_160)]
    [InlineData("resnet152", 60_192_808)]
    [InlineData("se_resnet50", 28_088_024)]
    [InlineData("resnet20_cifar", 269_722)]
    public void ParameterCountIsExact(string name, long expected)
    {
        Assert.Equal(expected, ModelRegistry.Describe(name).Parameters);
    }

    [Theory]
    [InlineData("resnet32_cifar", 0.46)]
    [InlineData("resnet44_cifar", 0.66)]
    [InlineData("resnet56_cifar", 0.85)]
    [InlineData("resnet110_cifar", 1.7)]
    [InlineData("resnet1202_cifar", 19.4)]
    public void CifarParameterCountRoundsToThePapersFigure(string name, double millions)
    {
        var parameters = ModelRegistry.Describe(name).Parameters;
        var digits = millions < 1 ? 2 : 1;
        Assert.Equal(millions, Math.Round(parameters / 1e6, digits));
    }

    [Theory]
    [InlineData("resnet18", 1.814)]
    [InlineData("resnet34", 3.664)]
    [InlineData("resnet50", 4.089)]
    [InlineData("resnet101", 7.801)]
    [InlineData("resnet152", 11.514)]
    public void MultiplyAddsAtNativeSizeAreWithinTwoPercentOfTorchvision(string name, double gigaMacs)
    {
        var description = ModelRegistry.Describe(name);
        Assert.Equal(224, description.InputSize);
        Assert.InRange(description.Cost.GigaMultiplyAdds, gigaMacs * 0.98, gigaMacs * 1.02);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("resnet50")]
    [InlineData("resnet101")]
    [InlineData("resnet152")]
    [InlineData("se_resnet18")]
    [InlineData("se_resnet50")]
    [InlineData("se_resnet152")]
    public void CountsEqualTorchvisionForwardHooksExactly(string name)
    {
        var reference = TorchReference.Get(name);
        var description = ModelRegistry.Describe(name);
        Assert.Equal(reference.Parameters, description.Parameters);
        Assert.Equal(reference.MultiplyAdds, description.MultiplyAdds);
    }

    [Theory]
    [InlineData("resnet50")]
    [InlineData("resnet101")]
    [InlineData("resnet152")]
    public void PaperV1StrideCostsWhatTorchvisionCostsWithTheStrideMoved(string name)
    {
        var reference = TorchReference.Get(name + "_v1");
        var description = ModelRegistry.Describe(name, new ModelOptions { BottleneckStride = BottleneckStride.OnFirstOneByOne });
        Assert.Equal(reference.Parameters, description.Parameters);
        Assert.Equal(reference.MultiplyAdds, description.MultiplyAdds);
    }

    [Fact]
    public void SqueezeExcitationAddsAQuarterPercentOfFlopsAndMostParametersInTheLastStage()
    {
        var plain = ModelRegistry.Describe("resnet50");
        var se = ModelRegistry.Describe("se_resnet50");
        var withoutLastStage = ModelRegistry.Describe("se_resnet50",
            new ModelOptions { SqueezeExcitation = new SqueezeExcitationOptions { Stages = [1, 2, 3] } });

        Assert.InRange((double)se.MultiplyAdds / plain.MultiplyAdds, 1.0, 1.003);
        Assert.InRange((double)se.Parameters / plain.Parameters, 1.09, 1.11);
        // SENet section 6.1: dropping SE from the last stage brings the increase down to about 4%.
        Assert.InRange((double)withoutLastStage.Parameters / plain.Parameters, 1.03, 1.045);
    }

    public static TheoryData<string, ModelOptions> Configurations()
    {
        var data = new TheoryData<string, ModelOptions>();
        foreach (var name in ModelRegistry.Names)
        {
            data.Add(name, new ModelOptions { NumClasses = 13 });
        }
        data.Add("resnet50", new ModelOptions { Shortcut = ShortcutOption.A });
        data.Add("resnet50", new ModelOptions { Shortcut = ShortcutOption.C, BottleneckStride = BottleneckStride.OnFirstOneByOne });
        data.Add("resnet18", new ModelOptions { Shortcut = ShortcutOption.C, InputChannels = 1 });
        data.Add("resnet20_cifar", new ModelOptions { Shortcut = ShortcutOption.B });
        data.Add("se_resnet20_cifar", new ModelOptions
        {
            SqueezeExcitation = new SqueezeExcitationOptions { Reduction = 4, Bias = false, Squeeze = SqueezeMode.None, Stages = [2] },
        });
        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void AnalyticParameterCountEqualsTheBuiltModule(string name, ModelOptions options)
    {
        using var model = ModelRegistry.Create(name, options);
        var built = model.parameters().Sum(p => p.numel());
        Assert.Equal(ModelCost.Of(model.Architecture).Parameters, built);
    }
}
