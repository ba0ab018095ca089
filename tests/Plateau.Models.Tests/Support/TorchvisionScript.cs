using System.Diagnostics;

namespace Plateau.Models.Tests.Support;

/// <summary>Runs tests/interop/torchvision_weights.py with Debian's /usr/bin/python3 (python3-torch, python3-torchvision).</summary>
public static class TorchvisionScript
{
    public const string Python = "/usr/bin/python3";

    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "interop", "torchvision_weights.py");
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing: scripts/install-test-deps.sh installs python3-torch and python3-torchvision");
        }

        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // One libtorch thread: the tests share two cores with a TorchSharp process.
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output) + (await error));
    }
}
