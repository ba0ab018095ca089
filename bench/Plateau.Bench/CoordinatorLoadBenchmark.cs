using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plateau.Cluster;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Configuration;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench coordinator --simulated-workers 1000</c>: the coordinator's JobGrains under the progress reports
/// of many ranks. The real coordinator host runs in this process; an Orleans client (also in this process, but
/// through the silo's gateway over loopback TCP, so every call is serialized and sent as a worker silo's is)
/// submits jobs of <c>--ranks-per-job</c> single-device workers, registers the simulated workers the way
/// WorkerRegistrar does, and reads each rank's assignment once its generation formed. Then every rank sends
/// IJobGrain.ReportProgress with its real generation and rank every <c>--interval-ms</c> (first report at a
/// random point of the first interval) for <c>--seconds</c>; each call is timed. Reported: latency percentiles,
/// reports per second offered and achieved, this process's CPU (cores busy: silo and simulated ranks together)
/// and peak working set, and whether p99 is under the target. Jobs are cancelled at the end.
/// </summary>
public static class CoordinatorLoadBenchmark
{
    /// <summary>The issue's target for a 2-core machine: p99 report latency under 50 ms.</summary>
    private const double TargetP99Milliseconds = 50;

    /// <summary>Registrations in flight at once while setting up (each one persists the job's state).</summary>
    private const int SetupParallelism = 16;

    /// <summary>Longer than any setup: the jobs form when their last worker registers, not at the deadline.</summary>
    private const double RendezvousTimeoutSeconds = 3600;

    /// <summary>Each simulated worker's one device.</summary>
    private const string Device = "cpu:0";

    // A simulated rank's report values: plausible for SE-ResNet-20 on a CPU, the same on every rank.
    private const double SimulatedImagesPerSecond = 400;
    private const double SimulatedLoss = 2.3;
    private const double SimulatedLearningRate = 0.1;

    /// <summary>What a simulated worker reports finding at the dataset (CIFAR-10's sizes); every worker agrees.</summary>
    private static readonly DatasetSummary Dataset = new(50_000, 10_000, 10);

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Build()
    {
        var livenessMs = (int)(new CoordinatorOptions().WorkerLivenessTimeoutSeconds * 1000);
        var workers = new Option<int>("--simulated-workers") { Description = "Simulated ranks, each a single-device worker that reports progress.", DefaultValueFactory = _ => 1000 }.Positive();
        var seconds = new Option<int>("--seconds") { Description = "How long the ranks report, after setup.", DefaultValueFactory = _ => 30 }.Positive();
        var interval = new Option<int>("--interval-ms") { Description = "Milliseconds between one rank's reports.", DefaultValueFactory = _ => 1000 }
            .PositiveUpTo(livenessMs - 1, $"a rank silent for {livenessMs} ms is declared failed by the coordinator's liveness check");
        var perJob = new Option<int>("--ranks-per-job") { Description = "Ranks (workers) per job; the last job takes what is left.", DefaultValueFactory = _ => 8 }.Positive();
        var command = new Command("coordinator", "Coordinator load: N simulated ranks report progress to their JobGrains; p99 report latency, CPU, memory.") { workers, seconds, interval, perJob };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            parseResult.GetValue(workers), parseResult.GetValue(seconds), parseResult.GetValue(interval), parseResult.GetValue(perJob), cancellationToken));
        return command;
    }

    /// <summary>One simulated rank: its worker, the job it belongs to and the generation and rank its assignment gave it.</summary>
    private sealed record SimulatedRank(IJobGrain Job, long Generation, int Rank);

    /// <summary>What one rank's loop saw.</summary>
    private sealed record RankOutcome(List<double> Milliseconds, int Failed, string? FirstError);

    private static async Task<int> RunAsync(int ranks, int seconds, int intervalMs, int ranksPerJob, CancellationToken cancellationToken)
    {
        var jobSizes = Enumerable.Range(0, (ranks + ranksPerJob - 1) / ranksPerJob).Select(j => Math.Min(ranksPerJob, ranks - (j * ranksPerJob))).ToList();
        Console.WriteLine($"# plateau-bench coordinator: {Machine.Describe()}, load average {Machine.LoadAverage()} at start; {ranks} simulated ranks in {jobSizes.Count} jobs " +
                          $"(up to {ranksPerJob} single-device workers each), a progress report per rank every {intervalMs} ms for {seconds} s");
        Console.WriteLine("# one process: the coordinator host (silo + JobService) and an Orleans client for the simulated ranks, calling through the silo's gateway on loopback TCP; CPU and memory are of both");
        await using var coordinator = await InProcessCoordinator.StartAsync("coordinator", cancellationToken);
        using var client = await StartClientAsync(coordinator, cancellationToken);
        try
        {
            return await MeasureAsync(client.Services.GetRequiredService<IClusterClient>(), jobSizes, intervalMs, seconds, cancellationToken);
        }
        finally
        {
            await client.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Forms the jobs, runs the ranks' report loops and prints the table; 1 when a job did not form or a report failed.</summary>
    private static async Task<int> MeasureAsync(IClusterClient grains, List<int> jobSizes, int intervalMs, int seconds, CancellationToken cancellationToken)
    {
        var ranks = jobSizes.Sum();
        var run = Guid.NewGuid().ToString("N")[..8];
        var setup = Stopwatch.StartNew();
        var members = await FormAsync(grains, run, jobSizes, cancellationToken);
        if (members is null)
        {
            return 1;
        }

        Console.WriteLine(string.Create(Invariant, $"# setup: {jobSizes.Count} jobs submitted, {ranks} workers registered, every generation formed in {setup.Elapsed.TotalSeconds:F1} s"));

        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var interval = TimeSpan.FromMilliseconds(intervalMs);
        var end = TimeSpan.FromSeconds(seconds);
        var outcomes = await Task.WhenAll(members.Select(member => ReportAsync(member, interval, clock, end, cancellationToken)));
        var wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        var cores = (process.TotalProcessorTime - cpuBefore).TotalSeconds / wall;
        var peakMiB = process.PeakWorkingSet64 / (1024.0 * 1024.0);

        var latency = LatencySummary.Of(outcomes.SelectMany(o => o.Milliseconds));
        var failed = outcomes.Sum(o => o.Failed);
        var offered = ranks * 1000.0 / intervalMs;
        Console.WriteLine();
        Console.WriteLine($"{"ranks",6}{"jobs",6}{"offered/s",11}{"achieved/s",12}{"reports",9}{"failed",8}{"p50 ms",9}{"p99 ms",9}{"max ms",9}{"CPU cores",11}{"peak WS MiB",13}");
        Console.WriteLine(string.Create(Invariant,
            $"{ranks,6}{jobSizes.Count,6}{offered,11:F0}{latency.Count / wall,12:F0}{latency.Count,9}{failed,8}") + latency.Columns() +
            string.Create(Invariant, $"{cores,11:F2}{peakMiB,13:F0}"));
        Console.WriteLine(string.Create(Invariant,
            $"target p99 < {TargetP99Milliseconds:F0} ms: {(latency.P99 < TargetP99Milliseconds ? "met" : "NOT met")} (p99 {latency.P99:F1} ms over {wall:F1} s); load average after {Machine.LoadAverage()}"));
        if (outcomes.FirstOrDefault(o => o.FirstError is not null)?.FirstError is { } error)
        {
            Console.Error.WriteLine($"  first failed report: {error}");
        }

        await Task.WhenAll(members.Select(m => m.Job).Distinct().Select(job => job.Cancel("plateau-bench coordinator: run over")));
        return failed == 0 ? 0 : 1;
    }

    private static async Task<IHost> StartClientAsync(InProcessCoordinator coordinator, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(coordinator.ClientSettings);
        builder.UseOrleansClient(orleans => orleans.UsePlateauCluster(builder.Configuration));
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return host;
    }

    /// <summary>Submits the jobs and registers their workers; every rank with its assignment's generation and rank,
    /// or null (and why, on stderr) when a job did not form.</summary>
    private static async Task<IReadOnlyList<SimulatedRank>?> FormAsync(IClusterClient grains, string run, List<int> jobSizes, CancellationToken cancellationToken)
    {
        var formed = new SimulatedRank[jobSizes.Sum()];
        var problems = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobSizes.Count), new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = cancellationToken }, async (j, _) =>
        {
            var jobId = $"bench-coord-{run}-{j}";
            var job = grains.GetGrain<IJobGrain>(jobId);
            await job.Submit(JobSpecLoader.Parse(BenchJobSpec.Yaml(jobId, jobSizes[j], RendezvousTimeoutSeconds)));
            var workerIds = Enumerable.Range(0, jobSizes[j]).Select(w => $"{jobId}-w{w}").ToList();
            foreach (var workerId in workerIds)
            {
                await job.RegisterWorker(new WorkerRegistration
                {
                    WorkerId = workerId,
                    Host = Environment.MachineName,
                    // Never dialled: no simulated rank joins a collective.
                    DataPlaneAddress = "http://127.0.0.1:9",
                    Devices = [new DeviceInfo(Device, DeviceKind.Cpu, "simulated", 0)],
                    Dataset = Dataset,
                });
            }

            var first = jobSizes.Take(j).Sum();
            foreach (var (workerId, w) in workerIds.Select((id, w) => (id, w)))
            {
                if (await job.GetAssignment(workerId, Device) is { } assignment)
                {
                    formed[first + w] = new SimulatedRank(job, assignment.Generation, assignment.Rank);
                }
                else
                {
                    var summary = await job.GetSummary();
                    lock (problems)
                    {
                        problems.Add($"{jobId}: worker {workerId} has no assignment; the job is {summary?.Phase}: {summary?.PhaseReason}");
                    }

                    return;
                }
            }
        });

        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"plateau-bench coordinator: {problem}");
        }

        return problems.Count == 0 ? formed : null;
    }

    /// <summary>One rank's loop: reports on a fixed schedule (a late answer is followed at once by the next report,
    /// never by a burst), each call timed from send to answer.</summary>
    private static async Task<RankOutcome> ReportAsync(SimulatedRank member, TimeSpan interval, Stopwatch clock, TimeSpan end, CancellationToken cancellationToken)
    {
        var milliseconds = new List<double>();
        var (failed, firstError) = (0, (string?)null);
        var due = TimeSpan.FromTicks(Random.Shared.NextInt64(interval.Ticks));
        for (var step = 1L; due < end; step++, due += interval)
        {
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken);
            }

            var start = Stopwatch.GetTimestamp();
            try
            {
                var ack = await member.Job.ReportProgress(Report(member, step));
                if (ack.Directive != WorkerDirective.Continue)
                {
                    throw new InvalidOperationException($"rank {member.Rank} was told {ack.Directive}: {ack.Message}");
                }

                milliseconds.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed++;
                firstError ??= $"{e.GetType().Name}: {e.Message}";
            }

            if (clock.Elapsed > due + interval)
            {
                due = clock.Elapsed - interval; // behind schedule: the next report goes now, the schedule restarts from it
            }
        }

        return new RankOutcome(milliseconds, failed, firstError);
    }

    /// <summary>A report like a training rank's (values plausible, equal across ranks so no straggler warnings).</summary>
    private static ProgressReport Report(SimulatedRank member, long step) => new()
    {
        Generation = member.Generation,
        Rank = member.Rank,
        Epoch = 0,
        GlobalStep = step,
        ImagesPerSecond = SimulatedImagesPerSecond,
        Loss = SimulatedLoss,
        LearningRate = SimulatedLearningRate,
        OwnSecondsPerStep = BenchJobSpec.PerDeviceBatch / SimulatedImagesPerSecond,
    };
}
