using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;

namespace Plateau.Models.Runtime;

/// <summary>
/// Start-up every process that trains calls first: glibc malloc tuning, libtorch's CPU kernel set and
/// its thread count.
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

    /// <summary>The variable libtorch reads, once, to choose its ATen CPU kernels (default, avx2, avx512).</summary>
    public const string CpuCapabilityVariable = "ATEN_CPU_CAPABILITY";

    private static int s_initialised;

    /// <summary>True once <see cref="Initialise"/> has applied the malloc settings on this process.</summary>
    public static bool MallocTuned { get; private set; }

    /// <summary>
    /// The ATen CPU kernel set asked of libtorch: "avx512" where the CPU and OS support it, the
    /// value of <c>ATEN_CPU_CAPABILITY</c> when the environment already sets one, else "libtorch default".
    /// </summary>
    public static string CpuKernels { get; private set; } = "libtorch default";

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
            CpuKernels = OperatingSystem.IsLinux() ? SelectCpuKernels() : CpuKernels;
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

    /// <summary>
    /// libtorch 2.10 picks its AVX2 kernels on this VM's AVX-512 EPYC (as Debian's torch 1.13 does):
    /// elementwise, batch-norm and pooling kernels then run at half width. Asking for the AVX-512 set
    /// (ReLU forward+backward 4.2 → 2.2 ms at 8x256x56x56) is what <c>ATEN_CPU_CAPABILITY=avx512</c>
    /// does; it must be in the C environment before libtorch's first kernel dispatch, hence setenv
    /// here rather than in the caller. An explicit setting in the environment always wins.
    /// </summary>
    private static string SelectCpuKernels()
    {
        var preset = Environment.GetEnvironmentVariable(CpuCapabilityVariable);
        if (!string.IsNullOrEmpty(preset))
        {
            return preset;
        }
        var hasAvx512 = Avx512F.IsSupported && Avx512F.VL.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Fma.IsSupported;
        try
        {
            return hasAvx512 && setenv(CpuCapabilityVariable, "avx512", overwrite: 0) == 0 ? "avx512" : "libtorch default";
        }
        catch (EntryPointNotFoundException)
        {
            return "libtorch default";
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
