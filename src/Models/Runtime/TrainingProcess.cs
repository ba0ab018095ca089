using System.Runtime.InteropServices;
using TorchSharp;

namespace Plateau.Models.Runtime;

/// <summary>
/// Start-up every process that trains calls first: glibc malloc tuning and the libtorch thread count.
/// </summary>
public static partial class TrainingProcess
{
    // mallopt parameter numbers from glibc's malloc.h.
    private const int MallocTrimThreshold = -1;
    private const int MallocTopPad = -2;
    private const int MallocMmapThreshold = -3;

    /// <summary>Activations up to this size come from the heap, not fresh mmaps each step.</summary>
    public const int MmapThresholdBytes = 32 * 1024 * 1024;

    /// <summary>Extra heap grabbed per sbrk so a training step does not grow the heap piecemeal.</summary>
    public const int TopPadBytes = 256 * 1024 * 1024;

    /// <summary>Never give freed heap back to the kernel: the next step needs it again.</summary>
    public const int TrimThresholdBytes = int.MaxValue;

    private static int s_initialised;

    /// <summary>True once <see cref="Initialise"/> has applied the malloc settings on this process.</summary>
    public static bool MallocTuned { get; private set; }

    /// <summary>
    /// Tunes glibc malloc (without it CPU training is 2-3x slower: glibc returns activation memory to
    /// the kernel every step) and sets libtorch's intra-op thread count. Safe to call more than once;
    /// only the first call changes malloc.
    /// </summary>
    public static void Initialise(int? threads = null)
    {
        if (Interlocked.Exchange(ref s_initialised, 1) == 0)
        {
            MallocTuned = OperatingSystem.IsLinux() && TuneGlibcMalloc();
        }
        if (threads is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(threads));
            torch.set_num_threads(n);
        }
    }

    private static bool TuneGlibcMalloc()
    {
        try
        {
            return mallopt(MallocMmapThreshold, MmapThresholdBytes) == 1
                && mallopt(MallocTrimThreshold, TrimThresholdBytes) == 1
                && mallopt(MallocTopPad, TopPadBytes) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            return false; // musl and other non-glibc C libraries: nothing to tune.
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
