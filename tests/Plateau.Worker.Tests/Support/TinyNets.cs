using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Support;

/// <summary>Small networks for exact comparisons.</summary>
internal static class TinyNets
{
    /// <summary>A BN-free conv net (conv-relu-pool ×2, fc): its gradient is a plain mean over samples, so
    /// data parallelism must reproduce the single-worker weights.</summary>
    public static nn.Module<Tensor, Tensor> BatchNormFree(long seed)
    {
        // torch's generator is process-wide and test classes run in parallel.
        lock (Plateau.Worker.Training.WorkerModels.InitialisationLock)
        {
            manual_seed(seed);
            return BatchNormFreeLayers();
        }
    }

    /// <summary>The layers of <see cref="BatchNormFree"/>, freshly initialised from torch's generator (the caller seeds it under the lock).</summary>
    public static nn.Module<Tensor, Tensor> BatchNormFreeLayers() =>
        nn.Sequential(
            ("conv1", nn.Conv2d(3, 8, 3, padding: 1)),
            ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(8, 16, 3, padding: 1)),
            ("relu2", nn.ReLU()),
            ("pool2", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten()),
            ("fc", nn.Linear(16, 10)));

    /// <summary>Deterministic batch of <paramref name="count"/> 16×16 images and labels.</summary>
    public static (Tensor Images, Tensor Labels) Batch(long seed, int count, int side = 16)
    {
        var generator = new Generator((ulong)seed);
        return (randn([count, 3, side, side], generator: generator), randint(0, 10, [count], generator: generator));
    }

    public static float MaxDifference(nn.Module a, nn.Module b)
    {
        var left = a.state_dict();
        var right = b.state_dict();
        var max = 0f;
        foreach (var (name, tensor) in left)
        {
            using var diff = (tensor.to_type(ScalarType.Float32) - right[name].to_type(ScalarType.Float32)).abs().max();
            max = Math.Max(max, diff.item<float>());
        }

        return max;
    }
}
