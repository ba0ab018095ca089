using Plateau.Models.Tests.Support;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.ResNets;

public class EveryModelTrainsTests
{
    public static TheoryData<string> AllModels => [.. ModelRegistry.Names];

    /// <summary>
    /// Small inputs keep 33 networks inside the test budget: ImageNet networks at 32x32 (their total
    /// stride, so the last stage is 1x1 and BN still sees two values per channel), CIFAR ones at 32x32,
    /// except resnet1202's family at 8x8 (1202 layers; the last stage is still 2x2).
    /// </summary>
    private static int InputSizeFor(string name) => name.Contains("1202", StringComparison.Ordinal) ? 8 : 32;

    [Theory]
    [MemberData(nameof(AllModels))]
    public void TrainingStepWithSevenClassesGivesEveryParameterAFiniteGradient(string name)
    {
        const int classes = 7;
        using var model = ModelRegistry.Create(name, new ModelOptions { NumClasses = classes });

        var loss = TrainingStep.Run(model, batch: 2, size: InputSizeFor(name), classes: classes);

        Assert.True(float.IsFinite(loss), $"{name}: loss {loss}");
        var parameters = model.named_parameters().ToList();
        Assert.NotEmpty(parameters);
        foreach (var (parameterName, parameter) in parameters)
        {
            using var grad = parameter.grad;
            Assert.True(grad is not null, $"{name}: {parameterName} has no gradient");
            Assert.True(isfinite(grad).all().item<bool>(), $"{name}: {parameterName} has a non-finite gradient");
        }
    }
}
