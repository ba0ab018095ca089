using System.Buffers;
using Plateau.Data.Datasets;
using SkiaSharp;

namespace Plateau.Data.Decoding;

/// <summary>
/// Decodes one sample at a time into RGB. Not thread-safe: each decode thread owns one (it holds a TurboJPEG handle
/// and scratch buffers). JPEGs go through TurboJPEG (or SkiaSharp), with DCT-domain downscaling by 1/2, 1/4 or 1/8
/// when the caller allows it; grayscale and CMYK/YCCK JPEGs come out RGB; PNG and other formats go through SkiaSharp.
/// Unreadable, corrupt or truncated data raises <see cref="BadSampleException"/>.
/// </summary>
public sealed class ImageDecoder : IDisposable
{
    private static readonly int[] Denominators = [8, 4, 2, 1];
    private IntPtr _turbo;
    private byte[] _cmyk = [];

    public ImageDecoder(DecoderBackend backend = DecoderBackend.Auto)
    {
        Backend = backend switch
        {
            DecoderBackend.Auto => TurboJpegNative.Available ? DecoderBackend.TurboJpeg : DecoderBackend.Skia,
            DecoderBackend.TurboJpeg when !TurboJpegNative.Available =>
                throw new InvalidOperationException($"TurboJPEG backend requested but {TurboJpegNative.Library} cannot be loaded; install Debian libturbojpeg0 or use the Skia backend"),
            _ => backend,
        };
        if (Backend == DecoderBackend.TurboJpeg)
        {
            _turbo = TurboJpegNative.InitDecompress();
            if (_turbo == IntPtr.Zero)
            {
                throw new InvalidOperationException("tjInitDecompress failed");
            }
        }
    }

    /// <summary>The backend in use for JPEGs after resolving <see cref="DecoderBackend.Auto"/>.</summary>
    public DecoderBackend Backend { get; }

    /// <summary>Number of JPEGs decoded with a libjpeg warning (e.g. extraneous bytes) that were still accepted.</summary>
    public long AcceptedWarnings { get; private set; }

    public static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    /// <summary>Full-resolution size of the sample's image, from its header only.</summary>
    public (int Width, int Height) ReadSize(in ImageSample sample)
    {
        if (sample.Payload == SamplePayload.RawRgb)
        {
            return (sample.RawWidth, sample.RawHeight);
        }
        var data = sample.Bytes.Span;
        if (IsJpeg(data) && Backend == DecoderBackend.TurboJpeg)
        {
            var (w, h, _) = TurboHeader(data, sample.Source);
            return (w, h);
        }
        using var codec = CreateCodec(data, sample.Source);
        return (codec.Info.Width, codec.Info.Height);
    }

    /// <summary>Use libjpeg's fast integer IDCT (TJFLAG_FASTDCT): ~10% faster, slightly less exact than the default.</summary>
    public bool FastDct { get; init; }

    /// <summary>
    /// Decodes into <paramref name="destination"/>, downscaled in the DCT domain by <paramref name="scale"/> when the
    /// sample is a JPEG (size ceil(W·k/8) x ceil(H·k/8); read it from the destination). Other formats decode at full size.
    /// </summary>
    public void Decode(in ImageSample sample, DctScale scale, DecodedImage destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (sample.Payload == SamplePayload.RawRgb)
        {
            destination.Reset(sample.RawWidth, sample.RawHeight);
            sample.Bytes.Span.CopyTo(destination.Pixels);
            return;
        }
        var data = sample.Bytes.Span;
        if (data.Length == 0)
        {
            throw new BadSampleException(sample.Source, "file is empty", null);
        }
        if (IsJpeg(data) && Backend == DecoderBackend.TurboJpeg)
        {
            DecodeTurbo(data, sample.Source, scale, destination);
        }
        else
        {
            DecodeSkia(data, sample.Source, IsJpeg(data) ? scale : DctScale.Full, destination);
        }
    }

    private unsafe (int Width, int Height, int Colorspace) TurboHeader(ReadOnlySpan<byte> data, string source)
    {
        fixed (byte* p = data)
        {
            if (TurboJpegNative.DecompressHeader3(_turbo, p, (nuint)data.Length, out var w, out var h, out _, out var cs) != 0)
            {
                throw new BadSampleException(source, $"unreadable JPEG header ({TurboJpegNative.ErrorText(_turbo)})", null);
            }
            if (w <= 0 || h <= 0)
            {
                throw new BadSampleException(source, $"JPEG header gives an empty {w}x{h} image", null);
            }
            return (w, h, cs);
        }
    }

    private unsafe void DecodeTurbo(ReadOnlySpan<byte> data, string source, DctScale scale, DecodedImage destination)
    {
        var (w, h, cs) = TurboHeader(data, source);
        var sw = scale.ScaledSize(w);
        var sh = scale.ScaledSize(h);
        var flags = FastDct ? TurboJpegNative.FlagFastDct : 0;
        var cmyk = cs is TurboJpegNative.ColorspaceCmyk or TurboJpegNative.ColorspaceYcck;
        destination.Reset(sw, sh);
        int rc;
        fixed (byte* src = data)
        {
            if (cmyk)
            {
                var needed = sw * sh * 4;
                if (_cmyk.Length < needed)
                {
                    _cmyk = new byte[needed];
                }
                fixed (byte* dst = _cmyk)
                {
                    rc = TurboJpegNative.Decompress2(_turbo, src, (nuint)data.Length, dst, sw, sw * 4, sh, TurboJpegNative.PixelFormatCmyk, flags);
                }
            }
            else
            {
                fixed (byte* dst = destination.Pixels)
                {
                    rc = TurboJpegNative.Decompress2(_turbo, src, (nuint)data.Length, dst, sw, sw * 3, sh, TurboJpegNative.PixelFormatRgb, flags);
                }
            }
        }
        if (rc != 0)
        {
            var message = TurboJpegNative.ErrorText(_turbo);
            var fatal = TurboJpegNative.GetErrorCode(_turbo) != TurboJpegNative.ErrorWarning;
            // Truncation is reported as a warning, with the missing part filled grey; treat it as corrupt.
            // Other warnings (extraneous bytes before a marker, which a few ImageNet files have) leave a correct image.
            if (fatal || message.Contains("Premature end", StringComparison.OrdinalIgnoreCase))
            {
                throw new BadSampleException(source, $"corrupt or truncated JPEG ({message})", null);
            }
            AcceptedWarnings++;
        }
        if (cmyk)
        {
            CmykToRgb(_cmyk.AsSpan(0, sw * sh * 4), destination.Span);
        }
    }

    /// <summary>
    /// Adobe CMYK/YCCK JPEGs (nearly all CMYK JPEGs, ImageNet's included) store inverted ink values, so with stored
    /// values c and k: R = c * k / 255 (what Pillow's "CMYK;I" decoding followed by convert("RGB") gives).
    /// </summary>
    internal static void CmykToRgb(ReadOnlySpan<byte> cmyk, Span<byte> rgb)
    {
        var n = cmyk.Length / 4;
        for (var i = 0; i < n; i++)
        {
            int k = cmyk[(i * 4) + 3];
            rgb[i * 3] = (byte)(((cmyk[i * 4] * k) + 127) / 255);
            rgb[(i * 3) + 1] = (byte)(((cmyk[(i * 4) + 1] * k) + 127) / 255);
            rgb[(i * 3) + 2] = (byte)(((cmyk[(i * 4) + 2] * k) + 127) / 255);
        }
    }

    private static SKCodec CreateCodec(ReadOnlySpan<byte> data, string source)
    {
        var skData = SKData.CreateCopy(data);
        var codec = SKCodec.Create(skData);
        if (codec is null)
        {
            skData.Dispose();
            throw new BadSampleException(source, "not a decodable image (unknown format or corrupt header)", null);
        }
        return codec;
    }

    private static unsafe void DecodeSkia(ReadOnlySpan<byte> data, string source, DctScale scale, DecodedImage destination)
    {
        using var skData = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(skData)
            ?? throw new BadSampleException(source, "not a decodable image (unknown format or corrupt header)", null);
        var size = scale.Eighths == 8 ? codec.Info.Size : codec.GetScaledDimensions(scale.Eighths / 8f);
        if (size.Width <= 0 || size.Height <= 0)
        {
            throw new BadSampleException(source, $"image header gives an empty {size.Width}x{size.Height} image", null);
        }
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = ArrayPool<byte>.Shared.Rent(info.BytesSize);
        try
        {
            SKCodecResult result;
            fixed (byte* p = rgba)
            {
                result = codec.GetPixels(info, (IntPtr)p);
            }
            if (result != SKCodecResult.Success)
            {
                throw new BadSampleException(source, $"decoding failed ({result})", null);
            }
            destination.Reset(size.Width, size.Height);
            var rgb = destination.Span;
            var n = size.Width * size.Height;
            for (var i = 0; i < n; i++)
            {
                rgb[i * 3] = rgba[i * 4];
                rgb[(i * 3) + 1] = rgba[(i * 4) + 1];
                rgb[(i * 3) + 2] = rgba[(i * 4) + 2];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    public void Dispose()
    {
        if (_turbo != IntPtr.Zero)
        {
            _ = TurboJpegNative.Destroy(_turbo);
            _turbo = IntPtr.Zero;
        }
    }
}
