using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Jobs;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

/// <summary>One job's plain classes wired together the way JobGrain wires them, over a state in memory and
/// a checkpoint directory in a temporary folder: no silo, no timers, no workers.</summary>
internal sealed class PlainJob : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-plain-job-").FullName;

    public PlainJob(string jobId = "job-plain", double graceSeconds = 0, ModelCheck? models = null)
    {
        Store = new DirectoryCheckpointStorage(Options.Create(new CheckpointStoreOptions { RootDirectory = _root }), NullLogger<DirectoryCheckpointStorage>.Instance);
        Context = new JobContext(jobId, () => State, Clock, NullLogger.Instance);
        Journal = new JobJournal(Context);
        Lifecycle = new JobLifecycle(Context, Journal, models ?? (_ => []));
        Epochs = new EpochPlanner(Context, Journal);
        Checkpoints = new CheckpointRegistry(Context, Journal, Store);
        Rendezvous = new WorkerRendezvous(Context, Journal, Lifecycle, Epochs, Checkpoints, graceSeconds);
        Progress = new RankProgress(Context, Journal, Lifecycle);
    }

    public JobState State { get; } = new();
    public ManualClock Clock { get; } = new();
    public DirectoryCheckpointStorage Store { get; }
    public JobContext Context { get; }
    public JobJournal Journal { get; }
    public JobLifecycle Lifecycle { get; }
    public EpochPlanner Epochs { get; }
    public CheckpointRegistry Checkpoints { get; }
    public WorkerRendezvous Rendezvous { get; }
    public RankProgress Progress { get; }

    /// <summary>Submits <paramref name="spec"/> and registers workers w0.. until the group forms.</summary>
    public IReadOnlyList<MemberOrder> Formed(JobSpec spec)
    {
        Lifecycle.Submit(spec);
        for (var i = 0; i < spec.Workers.Max; i++)
        {
            Rendezvous.Register(JobTestKit.Worker($"w{i}"));
        }

        Assert.Equal(JobPhase.Running, State.Phase);
        return Context.TakeOrders();
    }

    public IEnumerable<string> EventTexts(JobEventKind kind) => State.Events.Where(e => e.Kind == kind).Select(e => e.Message);

    /// <summary>Uploads <paramref name="bytes"/> as a checkpoint of the formed generation, seals and commits it.</summary>
    public async Task<CheckpointRecord> Checkpoint(int epoch, long step, byte[] bytes)
    {
        var ticket = Checkpoints.Begin(new CheckpointRequest { Generation = State.FormedGeneration, Epoch = epoch, GlobalStep = step });
        var commit = new CheckpointCommit(State.FormedGeneration, ticket.CheckpointId, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        await Store.WriteUploadAsync(Context.JobId, ticket.CheckpointId, new MemoryStream(bytes));
        await Store.SealAsync(Context.JobId, ticket.CheckpointId, commit.SizeBytes, commit.Sha256);
        return Checkpoints.Commit(commit);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
