using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Collective;
using Plateau.Collective.Hosting;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Checkpoints;
using Plateau.Models.Zoo;
using Plateau.Worker.Checkpointing;
using Plateau.Worker.Training;
using static TorchSharp.torch;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench checkpoint --model se_resnet50 --saves 3</c>: one rank 0 checkpoint (weights + SGD momentum)
/// saved the way a worker saves it, each phase timed: the host snapshot (all that training waits for, the
/// stall), writing and hashing the safetensors file, the upload to the coordinator's store over loopback gRPC
/// (hashed, flushed and sealed there as it arrives) and the commit (a rename). A synchronous save is the sum;
/// the shared-store path (write in place, then seal) is timed beside it, and loopback iperf3 in the same run.
/// </summary>
public static class CheckpointBenchmark
{
    private const string JobId = "bench-checkpoint";
    private const double StallTarget = 0.10;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "Model whose weights and momentum are saved.", DefaultValueFactory = _ => "se_resnet50" }.RegisteredModel();
        var saves = new Option<int>("--saves") { Description = "Timed saves per path (after 1 warm-up).", DefaultValueFactory = _ => 3 }.Positive();
        var noBaselines = new Option<bool>("--no-baselines") { Description = "Skip the iperf3 baseline." };
        var command = new Command("checkpoint", "Checkpoint save: training stall vs a synchronous save, upload throughput vs iperf3.") { model, saves, noBaselines };
        command.SetAction((parseResult, cancellationToken) =>
            RunAsync(parseResult.GetValue(model)!, parseResult.GetValue(saves), parseResult.GetValue(noBaselines), cancellationToken));
        return command;
    }

    private sealed record Save(double SnapshotMs, double WriteMs, double PublishMs, double CommitMs, long Bytes)
    {
        public double TotalMs => SnapshotMs + WriteMs + PublishMs + CommitMs;
    }

    private static async Task<int> RunAsync(string modelName, int saves, bool noBaselines, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("plateau-bench-checkpoint-");
        try
        {
            Console.WriteLine($"# plateau-bench checkpoint: {modelName}, {Environment.ProcessorCount} cores, load average {Machine.LoadAverage()}, {saves} saves per path after 1 warm-up, files in {root.FullName}");
            double? iperf = noBaselines ? null : await Machine.MeasureIperfAsync();

            using var model = ModelRegistry.Create(modelName);
            await using var solo = await CollectiveGroup.JoinAsync(new CollectivePeerRegistry(new CollectiveServerOptions()), new RingOptions
            {
                JobId = JobId, Generation = 1, Rank = 0, WorldSize = 1, Peers = ["http://127.0.0.1:1"], Secret = RandomNumberGenerator.GetBytes(32),
            }, cancellationToken: cancellationToken);
            using var step = new DataParallelStep(model, solo, 0.9, 1e-4, nesterov: false);
            GiveMomentum(model, step);

            var store = new DirectoryCheckpointStorage(Options.Create(new CheckpointStoreOptions { RootDirectory = Path.Combine(root.FullName, "store") }), NullLogger<DirectoryCheckpointStorage>.Instance);
            await using var endpoint = await CheckpointTransferEndpoint.StartAsync(store);
            using var transport = new NetworkTransport(endpoint.Address, Path.Combine(root.FullName, "worker"), NullLogger<NetworkTransport>.Instance);
            var assignment = BenchAssignment(modelName);
            var sealer = new StoreSealer(store);

            var network = new List<Save>();
            var shared = new List<Save>();
            for (var i = 0; i <= saves; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var n = NetworkSave(step, modelName, store, transport, assignment, sealer, i, cancellationToken);
                var s = SharedStoreSave(step, modelName, store, sealer, i);
                if (i > 0)
                {
                    (network, shared) = ([.. network, n], [.. shared, s]);
                }
            }

            Print("network (CheckpointTransfer upload)", network, "upload");
            Print("shared store (write in place, seal)", shared, "seal");
            var sync = Median(network.Select(s => s.TotalMs));
            var stall = Median(network.Select(s => s.SnapshotMs));
            var upload = Median(network.Select(s => s.Bytes / (s.PublishMs / 1e3)));
            Console.WriteLine(string.Create(Invariant,
                $"training stall (snapshot) {stall:F0} ms = {stall / sync * 100:F1}% of a synchronous network save ({sync:F0} ms); target ≤ {StallTarget * 100:F0}%: {(stall / sync <= StallTarget ? "met" : "NOT met")}"));
            var baseline = iperf is { } bps
                ? string.Create(Invariant, $"{upload * 8 / bps * 100:F1}% of iperf3 single-stream loopback TCP ({bps / 8 / 1e9:F2} GB/s)")
                : "no iperf3 baseline";
            Console.WriteLine(string.Create(Invariant, $"upload {upload / 1e9:F2} GB/s = {baseline}; load average after {Machine.LoadAverage()}"));
            return 0;
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    /// <summary>A save that has trained at least one step holds a momentum buffer per parameter; random values,
    /// because a checkpoint of zeros would hash and write no differently but hides nothing either way.</summary>
    private static void GiveMomentum(nn.Module model, DataParallelStep step)
    {
        using var scope = NewDisposeScope();
        step.Optimizer.LoadMomentumBuffers([.. model.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, randn_like(p.parameter)))]);
    }

    private static Save NetworkSave(DataParallelStep step, string modelName, DirectoryCheckpointStorage store, NetworkTransport transport, Assignment assignment, StoreSealer sealer, int index, CancellationToken cancellationToken)
    {
        var ticket = new CheckpointTicket($"ckpt-net-{index}", 1, StagingPath: null);
        var clock = Stopwatch.StartNew();
        using var snapshot = CheckpointSnapshot.Take(step, new CheckpointPosition(JobId, 1, 1, index, index), modelName);
        var snapshotMs = Lap(clock);
        var (size, sha) = CheckpointFile.Write(transport.StagingPathFor(assignment, ticket), snapshot);
        var writeMs = Lap(clock);
        transport.Publish(sealer, assignment, ticket, size, sha, cancellationToken);
        var publishMs = Lap(clock);
        Committed(store.Commit(JobId, ticket.CheckpointId, size, sha));
        var commitMs = Lap(clock);
        store.Delete(JobId, ticket.CheckpointId);
        return new Save(snapshotMs, writeMs, publishMs, commitMs, size);
    }

    private static Save SharedStoreSave(DataParallelStep step, string modelName, DirectoryCheckpointStorage store, StoreSealer sealer, int index)
    {
        var id = $"ckpt-shared-{index}";
        store.BeginUpload(JobId, id);
        var staging = store.StagingPath(JobId, id);
        var clock = Stopwatch.StartNew();
        using var snapshot = CheckpointSnapshot.Take(step, new CheckpointPosition(JobId, 1, 1, index, index), modelName);
        var snapshotMs = Lap(clock);
        var (size, sha) = CheckpointFile.Write(staging, snapshot);
        var writeMs = Lap(clock);
        sealer.SealCheckpoint(new CheckpointCommit(1, id, size, sha)).GetAwaiter().GetResult();
        var sealMs = Lap(clock);
        Committed(store.Commit(JobId, id, size, sha));
        var commitMs = Lap(clock);
        store.Delete(JobId, id);
        return new Save(snapshotMs, writeMs, sealMs, commitMs, size);
    }

    private static void Committed(StorageOutcome outcome)
    {
        if (!outcome.IsSound)
        {
            throw new InvalidOperationException($"the storage refused the commit: {outcome.Problem}");
        }
    }

    private static void Print(string path, IReadOnlyList<Save> saves, string publish)
    {
        Console.WriteLine();
        Console.WriteLine($"{path}: {saves[0].Bytes / 1e6:F1} MB per checkpoint");
        Console.WriteLine($"{"save",-6}{"stall ms",10}{"write+hash ms",15}{publish + " ms",12}{"GB/s",8}{"commit ms",11}{"sync ms",10}{"stall %",9}");
        foreach (var (s, i) in saves.Select((s, i) => (s, i + 1)))
        {
            Console.WriteLine(string.Create(Invariant,
                $"{i,-6}{s.SnapshotMs,10:F0}{s.WriteMs,15:F0}{s.PublishMs,12:F0}{s.Bytes / (s.PublishMs / 1e3) / 1e9,8:F2}{s.CommitMs,11:F1}{s.TotalMs,10:F0}{s.SnapshotMs / s.TotalMs * 100,9:F1}"));
        }
    }

    private static double Lap(Stopwatch clock)
    {
        var ms = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        return ms;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The coordinator's sealing, called in-process as the sealer grain would.</summary>
    private sealed class StoreSealer(ICheckpointStorage store) : ICheckpointSealer
    {
        public Task SealCheckpoint(CheckpointCommit commit) => store.SealAsync(JobId, commit.CheckpointId, commit.SizeBytes, commit.Sha256);
    }

    /// <summary>The fields of an assignment an upload reads (job, generation, secret); the rest describe no real job.</summary>
    private static Assignment BenchAssignment(string modelName) => new()
    {
        JobId = JobId,
        Generation = 1,
        WorkerId = "bench-worker",
        DeviceId = "cpu:0",
        CollectiveSecret = RandomNumberGenerator.GetBytes(32),
        Spec = new JobSpec { Model = new ModelSpec { Name = modelName }, Dataset = new DatasetSpec { Kind = DatasetKind.Synthetic, Path = "/nonexistent" }, Epochs = 1, Batch = new BatchSpec { Global = 1 } },
        Dataset = new DatasetSummary(1, 1, 1000),
        FirstEpoch = new EpochPlan { Generation = 1 },
    };
}
