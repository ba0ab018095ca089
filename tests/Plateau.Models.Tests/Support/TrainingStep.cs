using Plateau.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.Support;

/// <summary>One SGD step (momentum 0.9, weight decay 1e-4, cross-entropy) on random data, as the trainer does it.</summary>
public static class TrainingStep
{
    public static float Run(nn.Module<Tensor, Tensor> model, int batch, int size, int classes, int channels = 3)
    {
        TrainingProcess.Initialise();
        using var scope = NewDisposeScope();
        model.train();
        var input = randn(batch, channels, size, size);
        var target = randint(classes, [batch], dtype: ScalarType.Int64);
        using var optimizer = optim.SGD(model.parameters(), learningRate: 0.01, momentum: 0.9, weight_decay: 1e-4);
        optimizer.zero_grad();
        var output = model.call(input);
        Assert.Equal([batch, (long)classes], output.shape);
        var loss = nn.functional.cross_entropy(output, target);
        loss.backward();
        optimizer.step();
        return loss.item<float>();
    }
}
