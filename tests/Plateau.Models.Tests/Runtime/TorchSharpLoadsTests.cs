using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Plateau.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Models.Tests.Runtime;

public partial class TorchSharpLoadsTests
{
    [Fact]
    public void LibTorchLoadsAndComputesOnThisOs()
    {
        TrainingProcess.Initialise();
        using var a = ones(2, 3);
        using var b = a.sum();
        Assert.Equal(6f, b.item<float>());
    }

    [Fact]
    public void MallocIsTunedAtStartUp()
    {
        TrainingProcess.Initialise();
        Assert.True(TrainingProcess.MallocTuned);
    }

    [Fact]
    public void AvxFiveTwelveKernelsAreAskedOfLibTorchWhereTheCpuHasThem()
    {
        TrainingProcess.Initialise();
        // libtorch reads the C environment, which .NET's Environment does not see after a setenv.
        var native = Marshal.PtrToStringUTF8(getenv(TrainingProcess.CpuCapabilityVariable));
        var preset = Environment.GetEnvironmentVariable(TrainingProcess.CpuCapabilityVariable);
        if (!string.IsNullOrEmpty(preset))
        {
            Assert.Equal(preset, TrainingProcess.CpuKernels);
            Assert.Equal(preset, native);
        }
        else if (Avx512F.IsSupported && Avx512F.VL.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported)
        {
            Assert.Equal("avx512", TrainingProcess.CpuKernels);
            Assert.Equal("avx512", native);
        }
        else
        {
            Assert.Equal("libtorch default", TrainingProcess.CpuKernels);
            Assert.Null(native);
        }
    }

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);
}
