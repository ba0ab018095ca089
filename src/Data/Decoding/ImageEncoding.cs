using SkiaSharp;

namespace Plateau.Data.Decoding;

/// <summary>Encodes RGB pixels with SkiaSharp (synthetic data, fixtures, benchmarks).</summary>
public static class ImageEncoding
{
    public static byte[] EncodeJpeg(ReadOnlySpan<byte> rgbHwc, int width, int height, int quality = 90) =>
        Encode(rgbHwc, width, height, SKEncodedImageFormat.Jpeg, quality);

    public static byte[] EncodePng(ReadOnlySpan<byte> rgbHwc, int width, int height) =>
        Encode(rgbHwc, width, height, SKEncodedImageFormat.Png, 100);

    private static unsafe byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height, SKEncodedImageFormat format, int quality)
    {
        if (rgb.Length < width * height * 3)
        {
            throw new ArgumentException($"need {width * height * 3} RGB bytes for {width}x{height}", nameof(rgb));
        }
        var rgba = new byte[width * height * 4];
        for (var i = 0; i < width * height; i++)
        {
            rgba[i * 4] = rgb[i * 3];
            rgba[(i * 4) + 1] = rgb[(i * 3) + 1];
            rgba[(i * 4) + 2] = rgb[(i * 3) + 2];
            rgba[(i * 4) + 3] = 255;
        }
        fixed (byte* p = rgba)
        {
            var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
            using var pixmap = new SKPixmap(info, (IntPtr)p);
            using var data = pixmap.Encode(format, quality)
                ?? throw new InvalidOperationException($"SkiaSharp could not encode a {width}x{height} {format}");
            return data.ToArray();
        }
    }
}
