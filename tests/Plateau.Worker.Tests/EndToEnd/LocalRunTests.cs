using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// The real thing: <c>plateau local</c> starts a coordinator and 2 worker processes on loopback (Orleans
/// cluster, gRPC JobService, gRPC ring), trains ResNet-20 on a tiny synthetic set for 3 epochs and ends.
/// The plateau schedule is tuned so a plateau must happen: patience 0 and a relative threshold of 0.9
/// (no epoch can improve by 90%), so the second evaluation drops the rate 0.1 → 0.01 and the third
/// epoch trains with it.
/// </summary>
[Collection(LocalRunsTakeTurns.Name)]
public sealed partial class LocalRunTests : IDisposable
{
    private static readonly string[] Processes = ["coordinator", "worker-0", "worker-1"];
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plateau-local-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task TwoWorkerProcessesCompleteAShortJobAndTheCoordinatorDropsTheRateOnAPlateau()
    {
        var binary = Path.Combine(AppContext.BaseDirectory, "plateau");
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "local", "--workers", "2", "--model", "resnet20_cifar", "--epochs", "3", "--batch", "64",
            "--synthetic-train", "512", "--synthetic-val", "200", "--patience", "0", "--threshold", "0.9",
            "--plain", "--dir", _folder,
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"plateau local exited {process.ExitCode}:\n{output}\n{Logs()}");
        Assert.Contains("completed — trained 3 epochs", output, StringComparison.Ordinal);
        var drop = PlateauDecision().Match(output);
        Assert.True(drop.Success, $"no plateau decision in:\n{output}");
        Assert.Contains("lr 0.1 → 0.01", drop.Value, StringComparison.Ordinal);
        Assert.Matches(@"epoch 2: .*lr 0\.01\b", output);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_folder, "checkpoints"), "*.ckpt", SearchOption.AllDirectories));
        Assert.All(Processes, name => Assert.True(File.Exists(Path.Combine(_folder, "logs", name + ".log"))));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Logs() => string.Join("\n", Directory.Exists(Path.Combine(_folder, "logs"))
        ? Directory.GetFiles(Path.Combine(_folder, "logs")).Select(f => $"--- {f}\n{string.Join('\n', File.ReadLines(f).TakeLast(40))}")
        : []);

    [GeneratedRegex(@"\[plateau\][^\n]*")]
    private static partial Regex PlateauDecision();
}
