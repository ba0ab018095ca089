using Plateau.Data.Datasets;
using Plateau.Data.Decoding;

namespace Plateau.Data.Tests;

public class ImageDecoderTests
{
    private static byte[] Gradient(int w, int h)
    {
        var rgb = new byte[w * h * 3];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var o = ((y * w) + x) * 3;
                rgb[o] = (byte)(x * 255 / w);
                rgb[o + 1] = (byte)(y * 255 / h);
                rgb[o + 2] = 128;
            }
        }
        return rgb;
    }

    private static ImageSample Encoded(byte[] bytes, string name = "test.jpg") => new(0, 0, name, SamplePayload.Encoded, bytes);

    public static TheoryData<DecoderBackend> Backends => [DecoderBackend.TurboJpeg, DecoderBackend.Skia];

    [Fact]
    public void TurboJpegIsAvailableOnTheTestMachine() =>
        Assert.True(TurboJpegNative.Available, "libturbojpeg.so.0 did not load; install Debian libturbojpeg0 (scripts/install-test-deps.sh)");

    [Theory]
    [MemberData(nameof(Backends))]
    public void JpegDecodesCloseToTheOriginalPixels(DecoderBackend backend)
    {
        var rgb = Gradient(80, 60);
        using var decoder = new ImageDecoder(backend);
        var image = new DecodedImage();
        decoder.Decode(Encoded(ImageEncoding.EncodeJpeg(rgb, 80, 60, 95)), DctScale.Full, image);
        Assert.Equal((80, 60), (image.Width, image.Height));
        var maxError = rgb.Zip(image.Span.ToArray()).Max(p => Math.Abs(p.First - p.Second));
        Assert.InRange(maxError, 0, 24);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void DctScalingHalvesAndQuartersTheDecodedSize(DecoderBackend backend)
    {
        using var decoder = new ImageDecoder(backend);
        var jpeg = ImageEncoding.EncodeJpeg(Gradient(500, 375), 500, 375);
        var image = new DecodedImage();
        decoder.Decode(Encoded(jpeg), DctScale.Half, image);
        Assert.Equal((250, 188), (image.Width, image.Height));
        decoder.Decode(Encoded(jpeg), DctScale.Quarter, image);
        Assert.Equal((125, 94), (image.Width, image.Height));
        decoder.Decode(Encoded(jpeg), new DctScale(6), image);
        Assert.Equal((375, 282), (image.Width, image.Height));
        Assert.Equal((500, 375), decoder.ReadSize(Encoded(jpeg)));
    }

    [Fact]
    public void TheCoarsestScaleStillCoversTheOutputResolution()
    {
        Assert.Equal(DctScale.Full, DctScale.For(1.9, anyEighth: false));
        Assert.Equal(DctScale.Half, DctScale.For(2.0, anyEighth: false));
        Assert.Equal(DctScale.Half, DctScale.For(3.9, anyEighth: false));
        Assert.Equal(DctScale.Eighth, DctScale.For(100, anyEighth: false));
        Assert.Equal(new DctScale(6), DctScale.For(375.0 / 280, anyEighth: true)); // 6/8 of 375 = 281 >= 280
        Assert.Equal(DctScale.Full, DctScale.For(1.1, anyEighth: true));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void CmykAndGrayscaleJpegsComeOutRgb(DecoderBackend backend)
    {
        using var decoder = new ImageDecoder(backend);
        var image = new DecodedImage();
        // Fixtures from Pillow: left half RGB (200, 60, 30), right half (20, 90, 220); Pillow decodes the CMYK file to
        // exactly those, and the grayscale one to 98 / 84.
        decoder.Decode(Encoded(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "cmyk.jpg"))), DctScale.Full, image);
        Assert.Equal((24, 16), (image.Width, image.Height));
        AssertPixel(image, 3, 8, (200, 60, 30), 6);
        AssertPixel(image, 20, 8, (20, 90, 220), 6);
        decoder.Decode(Encoded(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gray.jpg"))), DctScale.Full, image);
        AssertPixel(image, 3, 8, (98, 98, 98), 3);
        AssertPixel(image, 20, 8, (84, 84, 84), 3);
    }

    private static void AssertPixel(DecodedImage image, int x, int y, (int R, int G, int B) expected, int tolerance)
    {
        var o = ((y * image.Width) + x) * 3;
        var actual = (image.Pixels[o], image.Pixels[o + 1], image.Pixels[o + 2]);
        Assert.True(Math.Abs(actual.Item1 - expected.R) <= tolerance && Math.Abs(actual.Item2 - expected.G) <= tolerance && Math.Abs(actual.Item3 - expected.B) <= tolerance,
            $"pixel ({x},{y}) is {actual}, expected {expected} ± {tolerance}");
    }

    [Fact]
    public void PngDecodesExactly()
    {
        var rgb = Gradient(33, 17);
        using var decoder = new ImageDecoder();
        var image = new DecodedImage();
        decoder.Decode(Encoded(ImageEncoding.EncodePng(rgb, 33, 17), "x.png"), DctScale.Half, image);
        Assert.Equal((33, 17), (image.Width, image.Height));
        Assert.Equal(rgb, image.Span.ToArray());
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void TruncatedGarbageAndEmptyFilesAreBadSamplesNamingTheFile(DecoderBackend backend)
    {
        using var decoder = new ImageDecoder(backend);
        var image = new DecodedImage();
        var jpeg = ImageEncoding.EncodeJpeg(Gradient(64, 64), 64, 64);
        var truncated = Assert.Throws<BadSampleException>(() => decoder.Decode(Encoded(jpeg[..(jpeg.Length / 2)], "cut.JPEG"), DctScale.Full, image));
        Assert.Equal("cut.JPEG", truncated.SampleSource);
        Assert.Throws<BadSampleException>(() => decoder.Decode(Encoded([0xFF, 0xD8, 0xFF, 1, 2, 3], "junk.JPEG"), DctScale.Full, image));
        Assert.Throws<BadSampleException>(() => decoder.Decode(Encoded([1, 2, 3, 4, 5], "junk.bin"), DctScale.Full, image));
        Assert.Contains("empty", Assert.Throws<BadSampleException>(() => decoder.Decode(Encoded([], "empty.JPEG"), DctScale.Full, image)).Message);
    }
}
