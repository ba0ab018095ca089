using System.Diagnostics;

namespace Plateau.Collective.Tests.Liveness;

/// <summary>Busy-loop processes competing for the same cores as the ranks, for as long as it lives.</summary>
internal sealed class CpuHog : IDisposable
{
    private readonly Process[] _loops;

    public CpuHog(int processes)
    {
        _loops = [.. Enumerable.Range(0, processes).Select(_ => Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!)];
    }

    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop.Kill();
            loop.WaitForExit();
            loop.Dispose();
        }
    }
}
