using Plateau.Models.Architecture;
using Plateau.Models.Zoo;

namespace Plateau.Models.Tests.Zoo;

public class ModelRegistryTests
{
    [Fact]
    public void RegistryHoldsResNetPlainAndSeVariantsOfEveryDepth()
    {
        string[] kinds = ["resnet", "plain", "se_resnet"];
        string[] imageNet = ["18", "34", "50", "101", "152"];
        string[] cifar = ["20", "32", "44", "56", "110", "1202"];
        var expected = kinds.SelectMany(p => imageNet.Select(d => p + d))
            .Concat(kinds.SelectMany(p => cifar.Select(d => $"{p}{d}_cifar")));
        Assert.Equal(expected, ModelRegistry.Names);
    }

    [Theory]
    [InlineData("resnet50", ModelFamily.ImageNet, 50, 224, 1000)]
    [InlineData("plain34", ModelFamily.ImageNet, 34, 224, 1000)]
    [InlineData("se_resnet110_cifar", ModelFamily.Cifar, 110, 32, 10)]
    [InlineData("resnet1202_cifar", ModelFamily.Cifar, 1202, 32, 10)]
    public void DescribeGivesDepthNativeInputSizeAndClasses(string name, ModelFamily family, int depth, int size, int classes)
    {
        var description = ModelRegistry.Describe(name);
        Assert.Equal(family, description.Family);
        Assert.Equal(depth, description.Depth);
        Assert.Equal(size, description.NativeInputSize);
        Assert.Equal(size, description.InputSize);
        Assert.Equal(classes, description.NumClasses);
    }

    [Fact]
    public void UnknownNameIsRefusedListingTheValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelRegistry.Create("resnet51"));
        Assert.Contains("resnet51", error.Message, StringComparison.Ordinal);
        foreach (var name in ModelRegistry.Names)
        {
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NamesAreCaseSensitiveLikeTorchvision()
    {
        Assert.Throws<ArgumentException>(() => ModelRegistry.Describe("ResNet50"));
        Assert.False(ModelRegistry.Contains("ResNet50"));
        Assert.True(ModelRegistry.Contains("resnet50"));
    }

    public static TheoryData<string, ModelOptions, string, string> ImpossibleOptions => new()
    {
        { "plain18", new ModelOptions { Shortcut = ShortcutOption.B }, "Shortcut", "resnet18" },
        { "plain50", new ModelOptions { ZeroInitResidual = true }, "ZeroInitResidual", "plain" },
        { "resnet18", new ModelOptions { BottleneckStride = BottleneckStride.OnFirstOneByOne }, "BottleneckStride", "resnet50" },
        { "resnet20_cifar", new ModelOptions { BottleneckStride = BottleneckStride.OnThreeByThree }, "BottleneckStride", "resnet152" },
        { "resnet50", new ModelOptions { SqueezeExcitation = new SqueezeExcitationOptions() }, "SqueezeExcitation", "se_resnet50" },
        { "se_resnet50", new ModelOptions { SqueezeExcitation = new SqueezeExcitationOptions { Stages = [0, 5] } }, "SqueezeExcitation.Stages", "1 to 4" },
        { "se_resnet20_cifar", new ModelOptions { SqueezeExcitation = new SqueezeExcitationOptions { Stages = [4] } }, "SqueezeExcitation.Stages", "1 to 3" },
        { "se_resnet18", new ModelOptions { SqueezeExcitation = new SqueezeExcitationOptions { Reduction = 0 } }, "SqueezeExcitation.Reduction", "at least 1" },
        { "se_resnet18", new ModelOptions { SqueezeExcitation = new SqueezeExcitationOptions { Gate = (GateFunction)9 } }, "SqueezeExcitation.Gate", "Sigmoid, Tanh, ReLU" },
        { "resnet18", new ModelOptions { NumClasses = 0 }, "NumClasses", "at least 1" },
        { "resnet18", new ModelOptions { InputSize = 16 }, "InputSize", "at least 32" },
        { "resnet20_cifar", new ModelOptions { InputSize = 2 }, "InputSize", "at least 4" },
        { "resnet20_cifar", new ModelOptions { InputChannels = 0 }, "InputChannels", "at least 1" },
    };

    [Theory]
    [MemberData(nameof(ImpossibleOptions))]
    public void ImpossibleOptionIsRefusedNamingTheSettingAndWhatIsValid(string name, ModelOptions options, string setting, string hint)
    {
        var error = Assert.Throws<ArgumentException>(() => ModelRegistry.Create(name, options));
        Assert.Equal(setting, error.ParamName);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DescribeAtAnotherInputSizeScalesTheMultiplyAddsButNotTheParameters()
    {
        var native = ModelRegistry.Describe("resnet50");
        var large = ModelRegistry.Describe("resnet50", new ModelOptions { InputSize = 448 });
        Assert.Equal(native.Parameters, large.Parameters);
        Assert.Equal(448, large.InputSize);
        // Every convolution does 4x the work at twice the side; only the fc layer's 2M stays.
        Assert.Equal((4 * (native.MultiplyAdds - (2048 * 1000))) + (2048 * 1000), large.MultiplyAdds);
    }
}
