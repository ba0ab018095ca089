using System.Globalization;
using Plateau.Models.Serialization;
using Plateau.Models.Tests.Support;
using Plateau.Models.Architecture;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.ResNets;

public class StateDictKeysTests
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("resnet50")]
    [InlineData("resnet101")]
    [InlineData("resnet152")]
    [InlineData("se_resnet18")]
    [InlineData("se_resnet34")]
    [InlineData("se_resnet50")]
    [InlineData("se_resnet101")]
    [InlineData("se_resnet152")]
    public void KeysShapesDtypesAndOrderEqualPyTorch(string name)
    {
        using var model = ModelRegistry.Create(name);
        var expected = TorchReference.Get(name).StateDict;
        var actual = StateDict.Ordered(model);

        Assert.Equal(expected.Select(k => k.Name), actual.Select(a => a.Key));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Shape.SequenceEqual(actual[i].Value.shape),
                $"{expected[i].Name}: expected [{string.Join(", ", expected[i].Shape)}], got [{string.Join(", ", actual[i].Value.shape)}]");
            Assert.Equal(expected[i].Dtype == "int64" ? ScalarType.Int64 : ScalarType.Float32, actual[i].Value.dtype);
        }
    }

    [Theory]
    [InlineData("resnet18", "plain18")]
    [InlineData("resnet50", "plain50")]
    [InlineData("resnet152", "plain152")]
    public void PlainNetworkKeysAreTheResNetKeysWithoutProjections(string residual, string plain)
    {
        var expected = TorchReference.Get(residual).StateDict.Select(k => k.Name).Where(k => !k.Contains(".downsample.", StringComparison.Ordinal));
        using var model = ModelRegistry.Create(plain);
        Assert.Equal(expected, StateDict.Keys(model));
    }

    [Theory]
    [InlineData("resnet20_cifar", 3, false, false)]
    [InlineData("resnet56_cifar", 9, false, false)]
    [InlineData("plain32_cifar", 5, false, false)]
    [InlineData("se_resnet20_cifar", 3, true, false)]
    [InlineData("resnet44_cifar", 7, false, true)]
    public void CifarKeysFollowTheTorchvisionNamingForThreeStages(string name, int blocksPerStage, bool se, bool optionB)
    {
        var expected = new List<string> { "conv1.weight" };
        expected.AddRange(Norm("bn1"));
        var inChannels = 16;
        for (var stage = 1; stage <= 3; stage++)
        {
            var outChannels = 16 << (stage - 1);
            for (var block = 0; block < blocksPerStage; block++)
            {
                var prefix = string.Create(CultureInfo.InvariantCulture, $"layer{stage}.{block}.");
                expected.Add(prefix + "conv1.weight");
                expected.AddRange(Norm(prefix + "bn1"));
                expected.Add(prefix + "conv2.weight");
                expected.AddRange(Norm(prefix + "bn2"));
                if (se)
                {
                    expected.AddRange([prefix + "se.fc1.weight", prefix + "se.fc1.bias", prefix + "se.fc2.weight", prefix + "se.fc2.bias"]);
                }
                if (optionB && inChannels != outChannels)
                {
                    expected.Add(prefix + "downsample.0.weight");
                    expected.AddRange(Norm(prefix + "downsample.1"));
                }
                inChannels = outChannels;
            }
        }
        expected.AddRange(["fc.weight", "fc.bias"]);

        using var model = ModelRegistry.Create(name, optionB ? new ModelOptions { Shortcut = ShortcutOption.B } : null);
        Assert.Equal(expected, StateDict.Keys(model));
    }

    [Fact]
    public void OptionCProjectsEveryShortcutAndOptionAProjectsNone()
    {
        using var optionC = ModelRegistry.Create("resnet18", new ModelOptions { Shortcut = ShortcutOption.C });
        using var optionA = ModelRegistry.Create("resnet18", new ModelOptions { Shortcut = ShortcutOption.A });

        var projected = StateDict.Keys(optionC).Where(k => k.EndsWith(".downsample.0.weight", StringComparison.Ordinal)).ToList();
        Assert.Equal(8, projected.Count); // every one of the 2+2+2+2 blocks
        Assert.Contains("layer1.1.downsample.0.weight", projected);
        Assert.DoesNotContain(StateDict.Keys(optionA), k => k.Contains("downsample", StringComparison.Ordinal));
    }

    [Fact]
    public void SqueezeExcitationLimitedToStagesOneToThreeLeavesLayerFourWithoutSe()
    {
        using var model = ModelRegistry.Create("se_resnet50",
            new ModelOptions { SqueezeExcitation = new SqueezeExcitationOptions { Stages = [1, 2, 3] } });
        var keys = StateDict.Keys(model);
        Assert.Contains("layer3.5.se.fc2.bias", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("layer4.", StringComparison.Ordinal) && k.Contains(".se.", StringComparison.Ordinal));
    }

    [Fact]
    public void SqueezeExcitationWithoutBiasHasOnlyFcWeights()
    {
        using var model = ModelRegistry.Create("se_resnet18",
            new ModelOptions { SqueezeExcitation = new SqueezeExcitationOptions { Bias = false, Reduction = 8 } });
        var state = StateDict.Ordered(model).ToDictionary(p => p.Key, p => p.Value);
        Assert.DoesNotContain(state.Keys, k => k.EndsWith("se.fc1.bias", StringComparison.Ordinal));
        Assert.Equal([8L, 64, 1, 1], state["layer1.0.se.fc1.weight"].shape);
    }

    private static string[] Norm(string prefix) =>
        [prefix + ".weight", prefix + ".bias", prefix + ".running_mean", prefix + ".running_var", prefix + ".num_batches_tracked"];
}
