namespace Plateau.Data.Datasets;

/// <summary>A growable byte buffer reused across reads by one thread, so reading files does not allocate per sample.</summary>
public sealed class SampleBuffer
{
    private byte[] _data = new byte[64 * 1024];

    /// <summary>A span of exactly <paramref name="length"/> bytes, growing the buffer when needed.</summary>
    public Memory<byte> Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (_data.Length < length)
        {
            _data = new byte[Math.Max(length, _data.Length * 2)];
        }
        return _data.AsMemory(0, length);
    }

    /// <summary>Current capacity in bytes (part of the loader's resident-memory bound).</summary>
    public int Capacity => _data.Length;
}
