using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// <c>plateau local</c> survives a worker killed with SIGKILL after its first checkpoint: its supervisor
/// starts the worker again and the job re-forms at the next generation, or, when <c>--min-workers</c>
/// allows, the survivors carry on alone. Either way the job completes (docs/reliability.md).
/// </summary>
[Trait("Category", "Slow")]
[Collection(LocalRunsTakeTurns.Name)]
public sealed class LocalFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(6);

    private static readonly string[] ShortJob =
    [
        "--workers", "2", "--model", "resnet20_cifar", "--epochs", "4", "--batch", "64",
        "--synthetic-train", "1024", "--synthetic-val", "128",
    ];

    /// <remarks>The workers move checkpoints through the coordinator's CheckpointTransfer service, as workers
    /// without a shared filesystem do: generation 2 restores from a download.</remarks>
    [Fact]
    public async Task AKilledWorkerIsStartedAgainAndTheJobCompletesAtTheNextGenerationFromADownloadedCheckpoint()
    {
        using var run = LocalRun.Start(NewFolder(), [.. ShortJob, "--checkpoint-transfer", "network"]);
        await run.WaitForCheckpointAsync(RunLimit);
        var killedAt = run.Elapsed;
        Process.GetProcessById(run.WorkerPid("worker-1")).Kill();

        var detected = await run.WaitForLineAsync("failed", RunLimit);
        var reformed = await run.WaitForLineAsync("generation 2 formed with 2 workers", RunLimit);
        Assert.Equal(0, await run.WaitForExitAsync(RunLimit));

        output.WriteLine($"loss reported after {(detected - killedAt).TotalSeconds:0.0} s; generation 2 formed {(reformed - killedAt).TotalSeconds:0.0} s after the kill");
        var text = run.Output;
        output.WriteLine(text); // the whole run, for whoever reads a failure
        Assert.Contains("worker-1 was killed by signal 9; starting it again (worker restart 1 of 3)", text, StringComparison.Ordinal);
        Assert.Contains("completed — trained 4 epochs", text, StringComparison.Ordinal);
        Assert.Contains("1 job restart(s), 1 worker process restart(s)", text, StringComparison.Ordinal);
        var workerLogs = string.Join("\n", Directory.GetFiles(Path.Combine(run.Folder, "logs"), "worker-*").Select(File.ReadAllText));
        Assert.Matches(@"Checkpoint \S+: uploaded \d+ bytes to http://127\.0\.0\.1:\d+/", workerLogs);
        Assert.Matches(@"Checkpoint \S+: downloaded \d+ bytes from http://127\.0\.0\.1:\d+/", workerLogs);
        var jobId = Regex.Match(text, @"job (local-\d{8}-\d{6}):").Groups[1].Value;
        var localCopies = Path.Combine(Path.GetTempPath(), "plateau-checkpoints");
        Assert.Empty(Directory.Exists(localCopies) ? Directory.GetFiles(localCopies, $"{jobId}-*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task WithMinWorkersOneTheSurvivorCarriesOnAloneAndTheJobCompletes()
    {
        using var run = LocalRun.Start(NewFolder(), [.. ShortJob, "--min-workers", "1", "--max-worker-restarts", "0"]);
        await run.WaitForCheckpointAsync(RunLimit);
        var killedAt = run.Elapsed;
        Process.GetProcessById(run.WorkerPid("worker-1")).Kill();

        var reformed = await run.WaitForLineAsync("generation 2 formed with 1 workers", RunLimit);
        Assert.Equal(0, await run.WaitForExitAsync(RunLimit));

        output.WriteLine($"generation 2 (1 worker) formed {(reformed - killedAt).TotalSeconds:0.0} s after the kill");
        var text = run.Output;
        output.WriteLine(text);
        Assert.Contains("worker-1 was killed by signal 9; not started again: all 0 worker restarts are used", text, StringComparison.Ordinal);
        Assert.Contains("global batch 64 = 1 × 64", text, StringComparison.Ordinal);
        Assert.Contains("completed — trained 4 epochs", text, StringComparison.Ordinal);
    }

    private static string NewFolder() => Path.Combine(Path.GetTempPath(), "plateau-local-fault-" + Guid.NewGuid().ToString("N")[..8]);
}
