using Plateau.Collective.Tests;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Plateau.Collective;
using Plateau.Collective.Hosting;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Workers;
using Plateau.Worker.Training;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Support;

/// <summary>World-size many RankTrainers of one fake job, each on its own thread, over a loopback ring.</summary>
internal sealed class TrainerHarness : IAsyncDisposable
{
    private readonly RingHarness? _ring;

    private TrainerHarness(FakeJob job, RingHarness? ring, IReadOnlyList<string> addresses, Func<int, Plateau.Collective.Hosting.CollectivePeerRegistry> registry, CheckpointRecord? resume, TrainerOptions options)
    {
        Job = job;
        _ring = ring;
        Controls = [.. Enumerable.Range(0, job.WorldSize).Select(_ => new TrainerControl())];
        States = [.. Enumerable.Range(0, job.WorldSize).Select(_ => new ConcurrentQueue<(WorkerTrainerState, string)>())];
        Trainers = [.. Enumerable.Range(0, job.WorldSize).Select(rank => new RankTrainer(job.AssignmentFor(rank, addresses, resume), CPU, registry(rank), addresses,
            job, options, Controls[rank], NullLoggerFactory.Instance, (state, message) => States[rank].Enqueue((state, message))))];
    }

    public FakeJob Job { get; }

    public TrainerControl[] Controls { get; }

    public RankTrainer[] Trainers { get; }

    public ConcurrentQueue<(WorkerTrainerState State, string Message)>[] States { get; }

    public static TrainerOptions FastOptions { get; } = new()
    {
        ProgressInterval = TimeSpan.FromMilliseconds(100),
        PlanRecheckInterval = TimeSpan.FromMilliseconds(20), // the fake job sends no EpochReady notices
        CallTimeout = TimeSpan.FromSeconds(10),
        StopGrace = TimeSpan.FromSeconds(10),
        CollectiveTimeout = TimeSpan.FromSeconds(30),
        EvalBatchSize = 16,
    };

    public static async Task<TrainerHarness> StartAsync(FakeJob job, TrainerOptions? options = null, CheckpointRecord? resume = null)
    {
        if (job.WorldSize == 1)
        {
            var registry = new CollectivePeerRegistry(new CollectiveServerOptions());
            job.Addresses = ["http://127.0.0.1:1"];
            return new TrainerHarness(job, null, job.Addresses, _ => registry, resume, options ?? FastOptions);
        }

        var ring = await RingHarness.StartServersAsync(job.WorldSize);
        job.Addresses = ring.Addresses;
        return new TrainerHarness(job, ring, ring.Addresses, rank => ring.Servers[rank].Registry, resume, options ?? FastOptions);
    }

    public Task<TrainerResult[]> RunAsync() => RankThreads.RunAsync(Job.WorldSize, rank => Trainers[rank].Run());

    public async ValueTask DisposeAsync()
    {
        if (_ring is not null)
        {
            await _ring.DisposeAsync();
        }
    }
}
