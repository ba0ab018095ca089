using Plateau.Collective.Tests;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Plateau.Collective;
using Plateau.Collective.Hosting;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Workers;
using Plateau.Worker.Training;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Support;

/// <summary>World-size many RankTrainers of one fake job, each on its own thread, over a loopback ring: one ring
/// member per rank, or — when the job reduces hierarchically — one per worker, each worker's devices meeting in a
/// <see cref="LocalDeviceGroup"/> (rank r is local device r % devicesPerWorker of worker r / devicesPerWorker).</summary>
internal sealed class TrainerHarness : IAsyncDisposable
{
    private readonly RingHarness? _ring;

    private TrainerHarness(FakeJob job, RingHarness? ring, IReadOnlyList<string> addresses, Func<int, Plateau.Collective.Hosting.CollectivePeerRegistry> registry, CheckpointRecord? resume, TrainerOptions options,
        Func<Assignment, Assignment>? adjust = null)
    {
        Job = job;
        _ring = ring;
        Controls = [.. Enumerable.Range(0, job.WorldSize).Select(_ => new TrainerControl())];
        States = [.. Enumerable.Range(0, job.WorldSize).Select(_ => new ConcurrentQueue<(WorkerTrainerState, string)>())];
        var assignments = Enumerable.Range(0, job.WorldSize).Select(rank => (adjust ?? (a => a))(job.AssignmentFor(rank, addresses, resume))).ToArray();
        LocalGroups = WorkerRing.Plan(assignments[0]) is { } plan
            ? [.. Enumerable.Range(0, plan.Workers).Select(w => WorkerRing.NewLocalGroup(assignments[w * plan.Devices], addresses, options)!)]
            : [];
        Trainers = [.. Enumerable.Range(0, job.WorldSize).Select(rank => new RankTrainer(assignments[rank], CPU, registry(rank), addresses,
            job, options, Controls[rank], NullLoggerFactory.Instance, (state, message) => States[rank].Enqueue((state, message)),
            localDevices: LocalGroups.Length == 0 ? null : LocalGroups[rank / job.DevicesPerWorker]))];
    }

    public FakeJob Job { get; }

    public TrainerControl[] Controls { get; }

    public RankTrainer[] Trainers { get; }

    public ConcurrentQueue<(WorkerTrainerState State, string Message)>[] States { get; }

    /// <summary>Each worker's local device group (empty on the flat ring).</summary>
    public LocalDeviceGroup[] LocalGroups { get; }

    public static TrainerOptions FastOptions { get; } = new()
    {
        ProgressInterval = TimeSpan.FromMilliseconds(100),
        PlanRecheckInterval = TimeSpan.FromMilliseconds(20), // the fake job sends no EpochReady notices
        CallTimeout = TimeSpan.FromSeconds(10),
        StopGrace = TimeSpan.FromSeconds(10),
        CollectiveTimeout = TimeSpan.FromSeconds(30),
        EvalBatchSize = 16,
    };

    public static async Task<TrainerHarness> StartAsync(FakeJob job, TrainerOptions? options = null, CheckpointRecord? resume = null, Func<Assignment, Assignment>? adjust = null)
    {
        // Ring members: every rank, or with the hierarchy every worker (its device 0, whose address is the worker's).
        var perMember = job.Spec.Communication.IsHierarchical(job.DevicesPerWorker) ? job.DevicesPerWorker : 1;
        var members = job.WorldSize / perMember;
        if (members == 1)
        {
            var registry = new CollectivePeerRegistry(new CollectiveServerOptions());
            job.Addresses = [.. Enumerable.Repeat("http://127.0.0.1:1", job.WorldSize)];
            return new TrainerHarness(job, null, job.Addresses, _ => registry, resume, options ?? FastOptions, adjust);
        }

        var ring = await RingHarness.StartServersAsync(members);
        job.Addresses = [.. Enumerable.Range(0, job.WorldSize).Select(rank => ring.Addresses[rank / perMember])];
        return new TrainerHarness(job, ring, job.Addresses, rank => ring.Servers[rank / perMember].Registry, resume, options ?? FastOptions, adjust);
    }

    public Task<TrainerResult[]> RunAsync() => RankThreads.RunAsync(Job.WorldSize, rank => Trainers[rank].Run());

    public async ValueTask DisposeAsync()
    {
        foreach (var group in LocalGroups)
        {
            group.Dispose();
        }

        if (_ring is not null)
        {
            await _ring.DisposeAsync();
        }
    }
}
