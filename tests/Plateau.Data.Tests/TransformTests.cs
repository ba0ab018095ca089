using Plateau.Data.Randomness;
using Plateau.Data.Transforms;

namespace Plateau.Data.Tests;

public class TransformTests
{
    private static CropPlan PlanOne(ISampleTransform t, int w, int h, ulong index)
    {
        var rng = new CounterRandom(1, 0, index, CounterRandom.Streams.Augmentation);
        var views = new CropPlan[t.Views];
        t.Plan(w, h, ref rng, views);
        return views[0];
    }

    [Fact]
    public void PaperScaleAugmentationCropsA224SquareOfAShorterSideIn256To480()
    {
        var t = new ScaleAugmentTransform();
        var flips = 0;
        var scales = new List<double>();
        for (ulong i = 0; i < 2000; i++)
        {
            var p = PlanOne(t, 500, 375, i);
            var shorter = 375 * 224 / p.Height; // resized shorter side
            Assert.InRange(shorter, 255.5, 480.5);
            Assert.InRange(p.Width / p.Height, 0.99, 1.01);
            Assert.InRange(p.X, 0, 500 - p.Width + 1e-6);
            Assert.InRange(p.Y, 0, 375 - p.Height + 1e-6);
            flips += p.Flip ? 1 : 0;
            scales.Add(shorter);
        }
        Assert.InRange(flips, 900, 1100);
        Assert.True(scales.Min() < 270 && scales.Max() > 465, "scale range not covered");
    }

    [Fact]
    public void RandomResizedCropStaysInsideTheImageWithinAreaAndRatioRanges()
    {
        var t = new RandomResizedCropTransform(224);
        for (ulong i = 0; i < 2000; i++)
        {
            var p = PlanOne(t, 500, 375, i);
            Assert.InRange(p.X + p.Width, 1, 500);
            Assert.InRange(p.Y + p.Height, 1, 375);
            var area = p.Width * p.Height / (500.0 * 375);
            Assert.InRange(area, 0.07, 1.0);
        }
    }

    [Fact]
    public void CifarPadCropOffsetsStayWithinFourPixels()
    {
        var t = new PadCropFlipTransform();
        var xs = new HashSet<double>();
        for (ulong i = 0; i < 1000; i++)
        {
            var p = PlanOne(t, 32, 32, i);
            Assert.InRange(p.X, -4, 4);
            Assert.InRange(p.Y, -4, 4);
            Assert.Equal(32, p.Width);
            xs.Add(p.X);
        }
        Assert.Equal(9, xs.Count);
    }

    [Fact]
    public void EvalCentreCropMatchesTorchvisionRounding()
    {
        // 500x375 → resize shorter to 256 → 341x256, centre 224 at x = round(58.5) = 58 (banker's rounding → 58), y = 16.
        var p = ResizeCenterCropTransform.CenterCrop(500, 375, 256, 224);
        var scale = 375 / 256.0;
        Assert.Equal(16 * scale, p.Y, 3);
        Assert.Equal(224 * scale, p.Height, 3);
    }

    [Fact]
    public void ResamplingTheWholeImageAtItsOwnSizeCopiesIt()
    {
        var rng = new CounterRandom(3, 0, 0, 0);
        var src = new byte[37 * 23 * 3];
        for (var i = 0; i < src.Length; i++)
        {
            src[i] = (byte)rng.NextInt(256);
        }
        var dst = new byte[src.Length];
        new Resampler().Resample(src, 37, 23, new CropPlan(0, 0, 37, 23, false), 37, 23, dst);
        Assert.Equal(src, dst);
        new Resampler().Resample(src, 37, 23, new CropPlan(0.0, 0.0, 37.0, 23.0, true), 37, 23, dst);
        Assert.Equal(src[..3], dst.AsSpan((36 * 3), 3).ToArray());
    }

    [Fact]
    public void DownscalingAveragesLikeAnAntialiasedFilter()
    {
        // A 1-pixel checkerboard shrunk 4x must come out flat grey, not aliased stripes.
        var src = new byte[64 * 64 * 3];
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                var v = (byte)(((x + y) & 1) == 0 ? 255 : 0);
                src[(((y * 64) + x) * 3) + 0] = v;
                src[(((y * 64) + x) * 3) + 1] = v;
                src[(((y * 64) + x) * 3) + 2] = v;
            }
        }
        var dst = new byte[16 * 16 * 3];
        new Resampler().Resample(src, 64, 64, new CropPlan(0, 0, 64, 64, false), 16, 16, dst);
        Assert.All(dst, v => Assert.InRange(v, 120, 135));
    }

    [Fact]
    public void PcaLightingIsDeterministicAndScaledByItsStd()
    {
        var a = new float[3];
        var b = new float[3];
        var r1 = new CounterRandom(1, 2, 3, 4);
        var r2 = new CounterRandom(1, 2, 3, 4);
        PcaLighting.Draw(0.1, ref r1, a);
        PcaLighting.Draw(0.1, ref r2, b);
        Assert.Equal(a, b);
        Assert.InRange(a.Max(Math.Abs), 1e-5, 0.2);
        PcaLighting.Draw(0, ref r1, a);
        Assert.Equal([0f, 0f, 0f], a);
    }

    [Fact]
    public void TransformsAreFoundByName()
    {
        Assert.IsType<ScaleAugmentTransform>(StandardTransforms.ByName("paper", 224));
        Assert.IsType<TenCropTransform>(StandardTransforms.ByName("ten-crop", 224));
        Assert.Contains("unknown transform 'bogus'", Assert.Throws<ArgumentException>(() => StandardTransforms.ByName("bogus", 224)).Message);
        Assert.Equal(5, ResizeCenterCropTransform.MultiScale().Count);
    }

    [Theory]
    [InlineData(300, 200, 224, 336, 224)] // torchvision Resize(224): int(224 * 300 / 200) = 336
    [InlineData(200, 300, 224, 224, 336)]
    [InlineData(500, 375, 640, 853, 640)] // int(640 * 500 / 375) = int(853.3)
    [InlineData(333, 500, 256, 256, 384)] // int(256 * 500 / 333) = int(384.4)
    [InlineData(640, 427, 224, 335, 224)] // int(224 * 640 / 427) = int(335.7): truncated, not rounded
    [InlineData(32, 32, 37, 37, 37)]
    public void AMultiScaleViewIsTheWholeImageWithItsShorterSideResizedAsTorchvisionDoes(int width, int height, int scale, int outWidth, int outHeight)
    {
        var pass = Assert.Single(ResizeCenterCropTransform.MultiScale([scale]));
        Assert.True(pass.IsTestScale);
        Assert.Equal(width == height, pass.CropsWholeImage(width, height));
        var whole = pass.WholeImage(width, height);
        Assert.Equal((outWidth, outHeight), (whole.OutputWidth, whole.OutputHeight));
        var random = default(CounterRandom);
        var views = new CropPlan[whole.Views];
        whole.Plan(width, height, ref random, views);
        Assert.Equal([new CropPlan(0, 0, width, height, false), new CropPlan(0, 0, width, height, true)], views);
    }

    [Fact]
    public void AMultiScalePassLeavesASourceItCannotSeeWholeUndecodedButReportsItsSize()
    {
        // The 131x90 fixture cut in half: its header still gives the size, its pixels cannot be decoded.
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "resize_source.png"));
        var broken = new Datasets.ImageSample(0, 0, "broken.png", Datasets.SamplePayload.Encoded, bytes.AsMemory(0, bytes.Length / 2));
        var pass = Assert.Single(ResizeCenterCropTransform.MultiScale([37]));
        Assert.False(pass.Wants(131, 90));
        using var processor = new SampleProcessor(pass, Normalisation.None, seed: 0);
        var views = Enumerable.Repeat((byte)7, 2 * 3 * 37 * 37).ToArray();
        var lighting = new float[] { 1, 1, 1 };

        processor.ProcessToBytes(broken, 0, views, lighting);

        Assert.Equal((131, 90), processor.SourceSize);
        Assert.All(views, b => Assert.Equal(0, b));
        Assert.Equal(new float[3], lighting);
        // A transform that wants every source decodes the same bytes, and fails on them.
        using var everySource = new SampleProcessor(new ResizeCenterCropTransform(37, 37, mirrorView: true), Normalisation.None, seed: 0);
        Assert.Throws<Datasets.BadSampleException>(() => everySource.ProcessToBytes(broken, 0, views, lighting));
    }

    [Fact]
    public void AMultiScalePassRendersASquareSourceAsTheSameScaleThatWantsEverySource()
    {
        var pixels = new byte[32 * 32 * 3];
        new Random(3).NextBytes(pixels);
        var square = new Datasets.ImageSample(0, 0, "square", Datasets.SamplePayload.RawRgb, pixels, 32, 32);
        var pass = Assert.Single(ResizeCenterCropTransform.MultiScale([37]));
        Assert.True(pass.Wants(32, 32));
        using var multiScale = new SampleProcessor(pass, Normalisation.None, seed: 0);
        using var everySource = new SampleProcessor(new ResizeCenterCropTransform(37, 37, mirrorView: true), Normalisation.None, seed: 0);
        var (a, b) = (new byte[2 * 3 * 37 * 37], new byte[2 * 3 * 37 * 37]);

        multiScale.ProcessToBytes(square, 0, a, new float[3]);
        everySource.ProcessToBytes(square, 0, b, new float[3]);

        Assert.Equal(b, a);
        Assert.Contains(a, x => x != 0);
    }

    [Fact]
    public void ResizeAndCentreCropMatchTorchvisionWithinRounding()
    {
        // Fixtures from torchvision 0.14 / Pillow 9.4: Resize(64) + CenterCrop(56) of a 131x90 PNG.
        var fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        var source = new Datasets.ImageSample(0, 0, "resize_source.png", Datasets.SamplePayload.Encoded, File.ReadAllBytes(Path.Combine(fixtures, "resize_source.png")));
        using var processor = new SampleProcessor(new ResizeCenterCropTransform(64, 56), Normalisation.None, seed: 0);
        var chw = new byte[3 * 56 * 56];
        processor.ProcessToBytes(source, 0, chw, new float[3]);
        using var decoder = new Decoding.ImageDecoder();
        var expected = new Decoding.DecodedImage();
        decoder.Decode(new Datasets.ImageSample(0, 0, "expected.png", Datasets.SamplePayload.Encoded, File.ReadAllBytes(Path.Combine(fixtures, "resize_expected_64_56.png"))), Decoding.DctScale.Full, expected);
        Assert.Equal((56, 56), (expected.Width, expected.Height));
        var maxDiff = 0;
        for (var p = 0; p < 56 * 56; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(chw[(c * 56 * 56) + p] - expected.Pixels[(p * 3) + c]));
            }
        }
        Assert.InRange(maxDiff, 0, 2); // Pillow uses 8-bit fixed-point coefficients; we use float.
    }
}
