using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Plateau.Worker.Tests.Support;
using Xunit.Abstractions;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// <c>plateau local</c> survives a worker or its coordinator killed with SIGKILL after the first checkpoint: its
/// supervisor starts the worker again (or the coordinator, with every worker) and the job re-forms at the next
/// generation, or, when <c>--min-workers</c> allows, the survivors carry on alone. A surviving worker's state after
/// its last step restarts the job (only the step in flight is lost); with no survivor, the last checkpoint does.
/// Either way the job completes, resuming inside the epoch at the exact cursor; at the same world size it ends with
/// the weights of a run nothing interrupted (docs/reliability.md).
/// </summary>
[Trait("Category", "Slow")]
[Collection(LocalRunsTakeTurns.Name)]
public sealed partial class LocalFaultTests(ITestOutputHelper output, UninterruptedLocalRun reference) : IClassFixture<UninterruptedLocalRun>
{
    internal static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(6);

    /// <summary>Training samples of the synthetic set: 16 global batches of 64 an epoch.</summary>
    private const int TrainSamples = 1024;

    /// <summary>A checkpoint every 5 steps lands inside epochs (16 steps each), so the first one is mid-epoch. The
    /// workers move checkpoints through the coordinator's CheckpointTransfer service, as workers without a shared
    /// filesystem do.</summary>
    internal static readonly string[] ShortJob =
    [
        "--workers", "2", "--model", "resnet20_cifar", "--epochs", "3", "--batch", "64",
        "--synthetic-train", "1024", "--synthetic-val", "128", "--checkpoint-every-steps", "5", "--checkpoint-transfer", "network",
    ];

    /// <remarks>Generation 2 starts from what the surviving worker kept in memory after its last step, broadcast to
    /// the restarted one; no checkpoint is downloaded. The reference ran the same spec with nothing killed: same world
    /// size and deterministic CPU kernels, so the final weights must be the same bits.</remarks>
    [Fact]
    public async Task AWorkerKilledMidEpochIsStartedAgainAndTheResumedJobEndsWithTheWeightsOfAnUninterruptedRun()
    {
        using var run = LocalRun.Start(NewFolder(), ShortJob);
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
        Assert.Contains("completed — trained 3 epochs", text, StringComparison.Ordinal);
        Assert.Contains("1 job restart(s), 1 worker process restart(s)", text, StringComparison.Ordinal);
        AssertTheResumedEpochTrainedExactlyTheRestOfItsOrder(text);
        AssertGenerationTwoStartedFromTheSurvivorsMemory(text);

        var workerLogs = WorkerLogs(run);
        Assert.Matches(@"Checkpoint \S+: uploaded \d+ bytes to http://127\.0\.0\.1:\d+/", workerLogs);
        Assert.Matches(@"rank 0 keeps its state after step \d+ in memory", workerLogs);
        Assert.Matches(@"generation 2: rank 0 starts from the state it kept in memory after step \d+ of generation 1", workerLogs);
        Assert.DoesNotMatch(@"Checkpoint \S+: downloaded", workerLogs);
        var jobId = JobId(text);
        var localCopies = Path.Combine(Path.GetTempPath(), "plateau-checkpoints");
        Assert.Empty(Directory.Exists(localCopies) ? Directory.GetFiles(localCopies, $"{jobId}-*", SearchOption.AllDirectories) : []);

        using var actual = CheckpointContents.Newest(Path.Combine(run.Folder, "checkpoints"));
        output.WriteLine($"final checkpoints: {reference.Final.Id} (uninterrupted), {actual.Id} (resumed)");
        actual.AssertSameTrainingStateAs(reference.Final);
        Assert.Contains($"(latest {actual.Id}, epoch 3)", text, StringComparison.Ordinal); // the summary names the checkpoint taken at the end
    }

    /// <remarks>The coordinator is the primary silo of the run's cluster, so its supervisor starts it again on the
    /// same ports and state folder together with both workers; the job wakes from its persisted state, re-forms from
    /// its last checkpoint and ends with the weights of the run nothing interrupted.</remarks>
    [Fact]
    public async Task ACoordinatorKilledMidEpochIsStartedAgainWithItsWorkersAndTheJobEndsWithTheWeightsOfAnUninterruptedRun()
    {
        using var run = LocalRun.Start(NewFolder(), ShortJob);
        // The job's event, not the file: a checkpoint exists once the job has recorded it (a coordinator killed
        // between the rename and that record restarts without it, from the checkpoint before).
        await run.WaitForLineAsync(" committed: epoch 0, step ", RunLimit);
        var killedAt = run.Elapsed;
        Process.GetProcessById(run.CoordinatorPid()).Kill();

        var reformed = await run.WaitForLineAsync("generation 2 formed with 2 workers", RunLimit);
        Assert.Equal(0, await run.WaitForExitAsync(RunLimit));

        output.WriteLine($"generation 2 formed {(reformed - killedAt).TotalSeconds:0.0} s after the coordinator was killed");
        var text = run.Output;
        output.WriteLine(text);
        Assert.Contains("coordinator was killed by signal 9; starting it again with every worker, whose silos belonged to its cluster (coordinator restart 1 of 3)", text, StringComparison.Ordinal);
        Assert.Contains("completed — trained 3 epochs", text, StringComparison.Ordinal);
        Assert.Contains("0 worker process restart(s), 1 coordinator restart(s)", text, StringComparison.Ordinal);
        AssertTheResumedEpochTrainedExactlyTheRestOfItsOrder(text);
        // Every process was started again, so nothing was kept in memory: the checkpoint is downloaded.
        Assert.Contains("; resuming from checkpoint ", text, StringComparison.Ordinal);
        Assert.Matches(@"Checkpoint \S+: downloaded \d+ bytes from http://127\.0\.0\.1:\d+/", WorkerLogs(run));
        var phaseLines = text.Split('\n').Where(l => l.StartsWith("phase ", StringComparison.Ordinal)).ToList();
        Assert.Equal(phaseLines.Distinct().Count(), phaseLines.Count); // the watch reconnected without repeating itself

        using var actual = CheckpointContents.Newest(Path.Combine(run.Folder, "checkpoints"));
        actual.AssertSameTrainingStateAs(reference.Final);
    }

    /// <remarks>Each rank takes 32 samples (<c>batch.perDevice</c>), so losing a worker halves the global batch and
    /// the linear scaling rule halves the rate; the epoch still continues at the checkpoint's cursor.</remarks>
    [Fact]
    public async Task WithMinWorkersOneTheSurvivorCarriesOnAloneAtTheScaledRateAndTheJobCompletes()
    {
        var folder = NewFolder();
        Directory.CreateDirectory(folder);
        var spec = Path.Combine(folder, "elastic.yaml");
        await File.WriteAllTextAsync(spec, $$"""
            apiVersion: plateau/v1
            name: elastic
            model: { name: resnet20_cifar }
            dataset: { kind: synthetic, path: {{Path.Combine(folder, "data")}}, options: { train: "{{TrainSamples}}", validation: "128" } }
            epochs: 3
            batch: { perDevice: 32 }
            optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }
            schedule: { linearScaling: { baseBatch: 64 } }
            checkpoint: { everyEpochs: 1, everySteps: 5 }
            workers: { min: 1, max: 2, rendezvousTimeoutSeconds: 180 }
            """);
        using var run = LocalRun.Start(folder, "--spec", spec, "--workers", "2", "--min-workers", "1", "--max-worker-restarts", "0");
        await run.WaitForCheckpointAsync(RunLimit);
        var killedAt = run.Elapsed;
        Process.GetProcessById(run.WorkerPid("worker-1")).Kill();

        var reformed = await run.WaitForLineAsync("generation 2 formed with 1 workers", RunLimit);
        Assert.Equal(0, await run.WaitForExitAsync(RunLimit));

        output.WriteLine($"generation 2 (1 worker) formed {(reformed - killedAt).TotalSeconds:0.0} s after the kill");
        var text = run.Output;
        output.WriteLine(text);
        Assert.Contains("worker-1 was killed by signal 9; not started again: all 0 worker restarts are used", text, StringComparison.Ordinal);
        Assert.Contains("global batch 32 = 1 × 32", text, StringComparison.Ordinal);
        Assert.Contains("global batch 64 → 32 (linear scaling) → lr 0.1 → 0.05", text, StringComparison.Ordinal);
        Assert.Contains("completed — trained 3 epochs", text, StringComparison.Ordinal);
        AssertTheResumedEpochTrainedExactlyTheRestOfItsOrder(text);
        AssertGenerationTwoStartedFromTheSurvivorsMemory(text);
    }

    /// <summary>The survivor's kept state, never older than the last checkpoint, restarted the job; prints the steps
    /// it saved over that checkpoint.</summary>
    private void AssertGenerationTwoStartedFromTheSurvivorsMemory(string text)
    {
        var resume = ResumedFromMemory().Match(text);
        Assert.True(resume.Success, "generation 2 did not start from the survivor's memory:\n" + text);
        var (kept, checkpoint) = (long.Parse(resume.Groups["step"].Value, CultureInfo.InvariantCulture), long.Parse(resume.Groups["checkpoint"].Value, CultureInfo.InvariantCulture));
        Assert.True(kept >= checkpoint, $"kept step {kept} is older than checkpoint step {checkpoint}");
        output.WriteLine($"generation 2 started after step {kept} from the survivor's memory; the checkpoint would have restarted at step {checkpoint} ({kept - checkpoint} step(s) more lost)");
    }

    /// <summary>Generation 2 resumes inside the epoch the kill interrupted, and that epoch's metrics count exactly
    /// the samples from the cursor to the end of its order: none trained twice by the new generation, none left out.</summary>
    private void AssertTheResumedEpochTrainedExactlyTheRestOfItsOrder(string text)
    {
        var resume = ResumedInsideEpoch().Match(text);
        Assert.True(resume.Success, "generation 2 did not resume inside an epoch:\n" + text);
        var (epoch, cursor) = (int.Parse(resume.Groups["epoch"].Value, CultureInfo.InvariantCulture), long.Parse(resume.Groups["cursor"].Value, CultureInfo.InvariantCulture));
        var trained = EpochTrainSamples().Matches(text).Where(m => m.Groups["epoch"].Value == epoch.ToString(CultureInfo.InvariantCulture)).ToList();
        var samples = Assert.Single(trained);
        output.WriteLine($"resumed inside epoch {epoch} at sample {cursor}; that epoch then trained {samples.Groups["samples"].Value} samples");
        Assert.Equal(TrainSamples - cursor, long.Parse(samples.Groups["samples"].Value, CultureInfo.InvariantCulture));
    }

    private static string WorkerLogs(LocalRun run) =>
        string.Join("\n", Directory.GetFiles(Path.Combine(run.Folder, "logs"), "worker-*").Select(File.ReadAllText));

    private static string JobId(string text) => Regex.Match(text, @"job (local-\d{8}-\d{6}):").Groups[1].Value;

    private static string NewFolder() => Path.Combine(Path.GetTempPath(), "plateau-local-fault-" + Guid.NewGuid().ToString("N")[..8]);

    [GeneratedRegex(@"resuming from (checkpoint \S+|the state .*? kept in memory after step \d+,) inside epoch (?<epoch>\d+) at sample (?<cursor>\d+) of its order")]
    private static partial Regex ResumedInsideEpoch();

    [GeneratedRegex(@"resuming from the state rank 0 of generation 1 \(worker-0/\S+\) kept in memory after step (?<step>\d+), .*?\(checkpoint \S+ would restart at step (?<checkpoint>\d+)\)")]
    private static partial Regex ResumedFromMemory();

    [GeneratedRegex(@"epoch (?<epoch>\d+): train loss \S+, train top-1 error \S+ \((?<samples>\d+) samples\)")]
    private static partial Regex EpochTrainSamples();
}
