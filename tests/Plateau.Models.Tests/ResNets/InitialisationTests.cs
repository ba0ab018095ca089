using Plateau.Models.Serialization;
using Plateau.Models.Architecture;
using Plateau.Models.Zoo;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.ResNets;

public class InitialisationTests
{
    [Fact]
    public void ConvolutionsGetHeNormalFanOutAndNormsStartAsIdentity()
    {
        manual_seed(7);
        using var model = ModelRegistry.Create("resnet50");
        var state = StateDict.Ordered(model).ToDictionary(p => p.Key, p => p.Value);

        // He (fan-out, ReLU): std = sqrt(2 / (out_channels * k * k)).
        using var wide = state["layer3.0.conv2.weight"]; // 256 x 256 x 3 x 3
        Assert.InRange(wide.std().item<float>(), Math.Sqrt(2.0 / (256 * 9)) * 0.97, Math.Sqrt(2.0 / (256 * 9)) * 1.03);
        using var projection = state["layer4.0.downsample.0.weight"]; // 2048 x 1024 x 1 x 1
        Assert.InRange(projection.std().item<float>(), Math.Sqrt(2.0 / 2048) * 0.97, Math.Sqrt(2.0 / 2048) * 1.03);
        Assert.True(state["layer2.1.bn3.weight"].eq(1).all().item<bool>());
        Assert.True(state["layer2.1.bn3.bias"].eq(0).all().item<bool>());
    }

    [Theory]
    [InlineData("resnet50", ".bn3.weight")]
    [InlineData("se_resnet18", ".bn2.weight")]
    [InlineData("resnet20_cifar", ".bn2.weight")]
    public void ZeroInitResidualZeroesTheLastNormOfEveryBranchOnly(string name, string lastNorm)
    {
        using var model = ModelRegistry.Create(name, new ModelOptions { ZeroInitResidual = true });
        var norms = StateDict.Ordered(model).Where(p => p.Key.StartsWith("layer", StringComparison.Ordinal)
            && (p.Key.EndsWith("bn1.weight", StringComparison.Ordinal) || p.Key.EndsWith("bn2.weight", StringComparison.Ordinal)
                || p.Key.EndsWith("bn3.weight", StringComparison.Ordinal)))
            .ToList();
        Assert.NotEmpty(norms);
        foreach (var (key, gamma) in norms)
        {
            var zero = gamma.eq(0).all().item<bool>();
            Assert.True(key.EndsWith(lastNorm, StringComparison.Ordinal) == zero, $"{key}: zero = {zero}");
        }
    }

    [Fact]
    public void ZeroInitialisedResidualBlocksStartAsIdentityPlusReLU()
    {
        using var model = ModelRegistry.Create("resnet20_cifar", new ModelOptions { ZeroInitResidual = true });
        model.eval();
        var block = model.named_modules().Single(m => m.name == "layer1.1").module as nn.Module<Tensor, Tensor>;
        Assert.NotNull(block);
        using var noGrad = no_grad();
        using var input = randn(2, 16, 8, 8).relu();
        using var output = block!.call(input);
        Assert.True(output.allclose(input));
    }
}
