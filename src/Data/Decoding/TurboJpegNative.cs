using System.Runtime.InteropServices;

namespace Plateau.Data.Decoding;

/// <summary>The few TurboJPEG 2.x calls the decoder uses (turbojpeg.h; libturbojpeg.so.0 from Debian libturbojpeg0).</summary>
internal static partial class TurboJpegNative
{
    public const string Library = "libturbojpeg.so.0";

    // Pixel formats (enum TJPF).
    public const int PixelFormatRgb = 0;
    public const int PixelFormatCmyk = 11;

    // JPEG colour spaces (enum TJCS).
    public const int ColorspaceCmyk = 3;
    public const int ColorspaceYcck = 4;

    // Flags.
    public const int FlagFastDct = 2048;

    // tjGetErrorCode: TJERR_WARNING = 0 (data was decoded but is suspect), TJERR_FATAL = 1.
    public const int ErrorWarning = 0;

    private static readonly Lazy<bool> s_available = new(() =>
        NativeLibrary.TryLoad(Library, typeof(TurboJpegNative).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.System32, out _) ||
        NativeLibrary.TryLoad(Library, out _));

    public static bool Available => s_available.Value;

    [LibraryImport(Library, EntryPoint = "tjInitDecompress")]
    public static partial IntPtr InitDecompress();

    [LibraryImport(Library, EntryPoint = "tjDestroy")]
    public static partial int Destroy(IntPtr handle);

    [LibraryImport(Library, EntryPoint = "tjDecompressHeader3")]
    public static unsafe partial int DecompressHeader3(IntPtr handle, byte* jpegBuf, nuint jpegSize, out int width, out int height, out int subsampling, out int colorspace);

    [LibraryImport(Library, EntryPoint = "tjDecompress2")]
    public static unsafe partial int Decompress2(IntPtr handle, byte* jpegBuf, nuint jpegSize, byte* dstBuf, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library, EntryPoint = "tjGetErrorStr2")]
    public static partial IntPtr GetErrorStr2(IntPtr handle);

    [LibraryImport(Library, EntryPoint = "tjGetErrorCode")]
    public static partial int GetErrorCode(IntPtr handle);

    public static string ErrorText(IntPtr handle) => Marshal.PtrToStringUTF8(GetErrorStr2(handle)) ?? "unknown TurboJPEG error";
}
