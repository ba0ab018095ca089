using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Plateau.Collective.Transport;

/// <summary>fp32 ⇄ wire element conversions (little-endian). bf16 and fp16 round to nearest even.</summary>
internal static class ElementCodec
{
    public static int BytesPerElement(WireCompression format) => format == WireCompression.None ? 4 : 2;

    /// <summary>Encodes <paramref name="source"/> into <paramref name="destination"/> (exactly BytesPerElement × length bytes).</summary>
    public static void Encode(ReadOnlySpan<float> source, Span<byte> destination, WireCompression format)
    {
        switch (format)
        {
            case WireCompression.None:
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case WireCompression.BFloat16:
                var bf = MemoryMarshal.Cast<byte, ushort>(destination[..(source.Length * 2)]);
                for (var i = 0; i < source.Length; i++)
                {
                    bf[i] = ToBFloat16(source[i]);
                }
                break;
            case WireCompression.Float16:
                var hf = MemoryMarshal.Cast<byte, Half>(destination[..(source.Length * 2)]);
                for (var i = 0; i < source.Length; i++)
                {
                    hf[i] = (Half)source[i];
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "unknown wire format");
        }
    }

    /// <summary>destination[i] += decode(source)[i].</summary>
    public static void DecodeAdd(ReadOnlySpan<byte> source, Span<float> destination, WireCompression format)
    {
        switch (format)
        {
            case WireCompression.None:
                AddInPlace(destination, MemoryMarshal.Cast<byte, float>(source));
                break;
            case WireCompression.BFloat16:
                var bf = MemoryMarshal.Cast<byte, ushort>(source);
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] += FromBFloat16(bf[i]);
                }
                break;
            case WireCompression.Float16:
                var hf = MemoryMarshal.Cast<byte, Half>(source);
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] += (float)hf[i];
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "unknown wire format");
        }
    }

    /// <summary>destination = decode(source).</summary>
    public static void DecodeCopy(ReadOnlySpan<byte> source, Span<float> destination, WireCompression format)
    {
        switch (format)
        {
            case WireCompression.None:
                MemoryMarshal.Cast<byte, float>(source)[..destination.Length].CopyTo(destination);
                break;
            case WireCompression.BFloat16:
                var bf = MemoryMarshal.Cast<byte, ushort>(source);
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = FromBFloat16(bf[i]);
                }
                break;
            case WireCompression.Float16:
                var hf = MemoryMarshal.Cast<byte, Half>(source);
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)hf[i];
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "unknown wire format");
        }
    }

    /// <summary>Rounds values in place to what the wire format can carry, so the owner keeps exactly what its peers decode.</summary>
    public static void RoundInPlace(Span<float> values, WireCompression format)
    {
        switch (format)
        {
            case WireCompression.None:
                break;
            case WireCompression.BFloat16:
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = FromBFloat16(ToBFloat16(values[i]));
                }
                break;
            case WireCompression.Float16:
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = (float)(Half)values[i];
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "unknown wire format");
        }
    }

    /// <summary>destination[i] += source[i], SIMD-wide; same element order on every rank, so deterministic.</summary>
    public static void AddInPlace(Span<float> destination, ReadOnlySpan<float> source)
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var width = System.Numerics.Vector<float>.Count;
            var d = MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(destination);
            var s = MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(source[..destination.Length]);
            for (var v = 0; v < d.Length; v++)
            {
                d[v] += s[v];
            }
            i = d.Length * width;
        }
        for (; i < destination.Length; i++)
        {
            destination[i] += source[i];
        }
    }

    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000)
        {
            return (ushort)((bits >> 16) | 0x0040); // NaN stays a (quiet) NaN
        }
        var roundingBias = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    public static float FromBFloat16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Little-endian check at start-up: the wire is little-endian and we reinterpret spans.</summary>
    public static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Plateau.Collective sends raw little-endian floats; big-endian hosts are not supported.");
        }
        _ = BinaryPrimitives.ReverseEndianness(0);
    }
}
