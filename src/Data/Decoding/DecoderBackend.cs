namespace Plateau.Data.Decoding;

/// <summary>Which library decodes JPEGs (PNG and everything else always go through SkiaSharp).</summary>
public enum DecoderBackend
{
    /// <summary>TurboJPEG when libturbojpeg.so.0 loads, else SkiaSharp.</summary>
    Auto,

    /// <summary>libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0) through P/Invoke.</summary>
    TurboJpeg,

    /// <summary>SkiaSharp's SKCodec (bundled libjpeg-turbo behind Skia's codec layer).</summary>
    Skia,
}
