namespace Plateau.Data.Randomness;

/// <summary>
/// A small deterministic generator: SplitMix64 stepping a 64-bit state whose start is a hash of
/// (seed, epoch, index, stream). Written out here rather than using <see cref="Random"/> because the
/// epoch order and every augmentation must be bit-identical across .NET versions, machines and thread
/// counts; <see cref="Random"/>'s algorithm is an implementation detail that has changed before.
/// </summary>
public struct CounterRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    /// <summary>A generator whose whole output is a pure function of the four keys.</summary>
    public CounterRandom(ulong seed, ulong epoch, ulong index, ulong stream)
    {
        var h = Mix(seed ^ 0x5EED5EED5EED5EEDUL);
        h = Mix(h ^ (epoch * Golden + 0x0E0C0E0CUL));
        h = Mix(h ^ (index * 0xBF58476D1CE4E5B9UL + 0x1D1D1DUL));
        _state = Mix(h ^ (stream * 0x94D049BB133111EBUL + 0x57EA4UL));
    }

    /// <summary>Streams: independent sequences drawn for different purposes from the same keys.</summary>
    public static class Streams
    {
        public const ulong EpochPermutation = 1;
        public const ulong Augmentation = 2;
        public const ulong Synthetic = 3;
        public const ulong ShardOrder = 4;
    }

    /// <summary>The SplitMix64 finaliser (Stafford variant 13): a bijective 64-bit mixer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        _state += Golden;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public double NextDouble(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Uniform integer in [0, n) without modulo bias (Lemire's multiply-and-reject).</summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var bound = (ulong)n;
        while (true)
        {
            var x = NextUInt64() >> 32;
            var m = x * bound;
            var low = m & 0xFFFFFFFFUL;
            if (low >= bound || low >= ((0x1_0000_0000UL - bound) % bound))
            {
                return (int)(m >> 32);
            }
        }
    }

    /// <summary>Uniform integer in [min, max] inclusive.</summary>
    public int NextIntInclusive(int min, int max) => min + NextInt(max - min + 1);

    public bool NextBool() => (NextUInt64() >> 63) != 0;

    /// <summary>Standard normal by Box-Muller (one value per call; simple and deterministic).</summary>
    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>In-place Fisher-Yates shuffle.</summary>
    public void Shuffle(Span<int> values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
