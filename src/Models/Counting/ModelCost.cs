using Plateau.Models.Architecture;

namespace Plateau.Models.Counting;

/// <summary>Parameter count and multiply-accumulates of one forward pass for one image.</summary>
public readonly record struct ModelCost(long Parameters, long MultiplyAdds)
{
    /// <summary>Multiply-adds in units of 10^9, the unit torchvision's "GFLOPS" column uses.</summary>
    public double GigaMultiplyAdds => MultiplyAdds / 1e9;

    /// <summary>
    /// Counts analytically from the architecture's shapes, without allocating a weight: parameters of
    /// every convolution, BN (weight + bias; running statistics are buffers) and the fc layer, and the
    /// multiply-adds of every convolution and the fc layer (BN, ReLU, pooling and additions are not
    /// counted, as in torchvision's and fvcore's figures). Tests check it against built modules.
    /// </summary>
    public static ModelCost Of(ResNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var variant = architecture.Variant;
        var counter = new Counter();
        long size = architecture.InputSize;

        if (variant.Family == ModelFamily.ImageNet)
        {
            size = ConvOutput(size, kernel: 7, stride: 2, padding: 3);
            counter.Conv(architecture.InputChannels, variant.StemWidth, 7, size, bias: false);
            counter.Norm(variant.StemWidth);
            size = ConvOutput(size, kernel: 3, stride: 2, padding: 1); // max-pool
        }
        else
        {
            counter.Conv(architecture.InputChannels, variant.StemWidth, 3, size, bias: false);
            counter.Norm(variant.StemWidth);
        }

        foreach (var block in architecture.Blocks)
        {
            var outSize = ConvOutput(size, kernel: 3, stride: block.Stride, padding: 1);
            if (variant.Block == BlockKind.Basic)
            {
                counter.Conv(block.InChannels, block.Width, 3, outSize, bias: false);
                counter.Norm(block.Width);
                counter.Conv(block.Width, block.OutChannels, 3, outSize, bias: false);
                counter.Norm(block.OutChannels);
            }
            else
            {
                counter.Conv(block.InChannels, block.Width, 1, block.StrideOnFirstConv ? outSize : size, bias: false);
                counter.Norm(block.Width);
                counter.Conv(block.Width, block.Width, 3, outSize, bias: false);
                counter.Norm(block.Width);
                counter.Conv(block.Width, block.OutChannels, 1, outSize, bias: false);
                counter.Norm(block.OutChannels);
            }
            if (block.SeChannels is { } hidden && architecture.SqueezeExcitation is { } se)
            {
                var seSize = se.Squeeze == SqueezeMode.None ? outSize : 1;
                counter.Conv(block.OutChannels, hidden, 1, seSize, se.Bias);
                counter.Conv(hidden, block.OutChannels, 1, seSize, se.Bias);
            }
            if (block.Shortcut == ShortcutKind.Projection)
            {
                counter.Conv(block.InChannels, block.OutChannels, 1, outSize, bias: false);
                counter.Norm(block.OutChannels);
            }
            size = outSize;
        }

        counter.Linear(architecture.FeatureChannels, architecture.NumClasses);
        return new ModelCost(counter.Parameters, counter.MultiplyAdds);
    }

    private static long ConvOutput(long size, int kernel, int stride, int padding) =>
        ((size + (2 * padding) - kernel) / stride) + 1;

    private sealed class Counter
    {
        public long Parameters { get; private set; }

        public long MultiplyAdds { get; private set; }

        public void Conv(long inChannels, long outChannels, long kernel, long outSize, bool bias)
        {
            var weights = inChannels * outChannels * kernel * kernel;
            Parameters += weights + (bias ? outChannels : 0);
            MultiplyAdds += weights * outSize * outSize;
        }

        public void Norm(long channels) => Parameters += 2 * channels;

        public void Linear(long inFeatures, long outFeatures)
        {
            Parameters += (inFeatures * outFeatures) + outFeatures;
            MultiplyAdds += inFeatures * outFeatures;
        }
    }
}
