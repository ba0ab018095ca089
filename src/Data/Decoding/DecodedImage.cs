namespace Plateau.Data.Decoding;

/// <summary>A reusable 8-bit RGB, row-major HWC pixel buffer (one per decode thread).</summary>
public sealed class DecodedImage
{
    private byte[] _pixels = new byte[256 * 256 * 3];

    public int Width { get; private set; }

    public int Height { get; private set; }

    public int Stride => Width * 3;

    /// <summary>The pixels: <c>Height * Width * 3</c> bytes starting at 0 (the array may be larger).</summary>
    public byte[] Pixels => _pixels;

    public Span<byte> Span => _pixels.AsSpan(0, Height * Width * 3);

    /// <summary>Capacity in bytes (part of the loader's resident-memory bound).</summary>
    public int Capacity => _pixels.Length;

    /// <summary>Resizes the logical image, growing the buffer when needed; contents are undefined afterwards.</summary>
    public void Reset(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var needed = checked(width * height * 3);
        if (_pixels.Length < needed)
        {
            _pixels = new byte[needed];
        }
        Width = width;
        Height = height;
    }
}
