using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Plateau.Cli.Commands;

/// <summary>
/// Children of <c>plateau local</c> (<c>plateau coordinator</c>, <c>plateau worker</c> with
/// <c>--exit-with PID</c>) stop by themselves when their parent dies, so they never outlive it.
/// </summary>
public static class ParentProcess
{
    /// <summary>Stops <paramref name="host"/> when process <paramref name="parentPid"/> exits.</summary>
    public static void StopWithParent(IHost host, int? parentPid)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (parentPid is not { } pid)
        {
            return;
        }

        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync(lifetime.ApplicationStopping))
            {
                if (!IsAlive(pid))
                {
                    Environment.ExitCode = 130;
                    lifetime.StopApplication();
                    return;
                }
            }
        });
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
