using System.Security.Cryptography;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Worker.Training;

namespace Plateau.Worker.Tests.Support;

/// <summary>
/// The job side of a trainer run, in memory: plans epochs (rate divided by 10 each epoch so the plan's
/// rate is visible), opens the next epoch once every rank reported, takes checkpoints into a folder and
/// records everything the ranks send.
/// </summary>
internal sealed class FakeJob : IJobChannel
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Dictionary<int, EpochReport>> _reports = [];

    public FakeJob(string directory, int worldSize, int totalEpochs, int trainSamples = 96, int validationSamples = 40, int globalBatch = 16,
        double baseLr = 0.1, int maxNonFiniteSteps = JobSpec.DefaultMaxNonFiniteSteps, GradientCompression compression = GradientCompression.None,
        int checkpointEverySteps = 0, EvaluationMode evaluationMode = EvaluationMode.CenterCrop, bool dropLast = true,
        int devicesPerWorker = 1, GradientReduction reduction = GradientReduction.Auto)
    {
        DevicesPerWorker = devicesPerWorker;
        _dropLast = dropLast;
        _baseLr = baseLr;
        Directory.CreateDirectory(directory);
        Folder = directory;
        WorldSize = worldSize;
        TotalEpochs = totalEpochs;
        GlobalBatch = globalBatch;
        Dataset = new DatasetSummary(trainSamples, validationSamples, 10);
        Spec = new JobSpec
        {
            Model = new ModelSpec { Name = "resnet20_cifar" },
            Dataset = new Plateau.Contracts.Specs.DatasetSpec
            {
                Kind = DatasetKind.Synthetic,
                Path = Path.Combine(directory, "data"),
                Options = new Dictionary<string, string> { ["train"] = $"{trainSamples}", ["validation"] = $"{validationSamples}" },
            },
            Epochs = totalEpochs,
            Batch = new BatchSpec { Global = globalBatch, DropLast = dropLast },
            Evaluation = new EvaluationSpec { Mode = evaluationMode },
            Seed = 5,
            MaxNonFiniteSteps = maxNonFiniteSteps,
            Communication = new CommunicationSpec { Compression = compression, Reduction = reduction },
            Workers = devicesPerWorker == 1 ? new WorkersSpec() : new WorkersSpec { Min = worldSize / devicesPerWorker, Max = worldSize / devicesPerWorker, DevicesPerWorker = devicesPerWorker },
            Checkpoint = new CheckpointPolicySpec { EverySteps = checkpointEverySteps },
        };
    }

    private readonly double _baseLr;

    private readonly bool _dropLast;

    public string Folder { get; }

    public int WorldSize { get; }

    /// <summary>Ranks per worker: rank r is local device r % DevicesPerWorker of worker r / DevicesPerWorker.</summary>
    public int DevicesPerWorker { get; }

    public int TotalEpochs { get; }

    public int GlobalBatch { get; }

    public long StepsPerEpoch => EpochSteps.From(Dataset.TrainSamples, 0, GlobalBatch, _dropLast);

    public DatasetSummary Dataset { get; }

    public JobSpec Spec { get; }

    public byte[] Secret { get; } = RandomNumberGenerator.GetBytes(32);

    public WorkerDirective Directive { get; set; } = WorkerDirective.Continue;

    /// <summary>This rank's epoch report is recorded, then its call never returns (a wedged rank).</summary>
    public int? StallRank { get; init; }

    public IReadOnlyList<string> Addresses { get; set; } = [];

    public string PeerAddress(int rank) => Addresses[rank];

    public List<ProgressReport> Progress { get; } = [];

    public List<FailureReport> Failures { get; } = [];

    public List<CheckpointRecord> Checkpoints { get; } = [];

    public IReadOnlyDictionary<int, EpochReport> ReportsOf(int epoch)
    {
        lock (_lock)
        {
            return _reports.TryGetValue(epoch, out var reports) ? new Dictionary<int, EpochReport>(reports) : [];
        }
    }

    public string CheckpointPath(string id) => Path.Combine(Folder, id + ".ckpt");

    /// <summary>The plan of <paramref name="epoch"/>; a resume inside it starts at the record's cursor and step.</summary>
    public EpochPlan Plan(int epoch, CheckpointRecord? resume = null)
    {
        var end = (epoch + 1) * StepsPerEpoch;
        var start = resume is null ? epoch * StepsPerEpoch : resume.GlobalStep;
        var lr = _baseLr * Math.Pow(0.1, epoch);
        return new EpochPlan
        {
            Generation = 1,
            Epoch = epoch,
            TotalEpochs = TotalEpochs,
            StepsInEpoch = StepsPerEpoch,
            StartGlobalStep = start,
            EndGlobalStep = end,
            Cursor = resume?.Cursor ?? 0,
            GlobalBatch = GlobalBatch,
            PerRankBatch = GlobalBatch / WorldSize,
            WorldSize = WorldSize,
            Seed = Spec.Seed,
            Evaluate = true,
            Checkpoint = true,
            LrSegments = [new LrSegment(start, end, lr, lr)],
            Momentum = 0.9,
            WeightDecay = 1e-4,
            TraceParent = TraceParentOf(epoch),
        };
    }

    /// <summary>The traceparent each epoch's plan carries (none by default).</summary>
    public Func<int, string?> TraceParentOf { get; init; } = _ => null;

    public Assignment AssignmentFor(int rank, IReadOnlyList<string> addresses, CheckpointRecord? resume = null) => new()
    {
        JobId = "job-test",
        Generation = 1,
        Rank = rank,
        WorldSize = WorldSize,
        LocalRank = rank % DevicesPerWorker,
        WorkerId = $"worker-{rank / DevicesPerWorker}",
        DeviceId = $"cpu:{rank % DevicesPerWorker}",
        Peers = [.. addresses.Select((a, r) => new PeerInfo(r, $"worker-{r / DevicesPerWorker}", $"cpu:{r % DevicesPerWorker}", "localhost", a, r % DevicesPerWorker))],
        CollectiveSecret = Secret,
        Spec = Spec,
        Dataset = Dataset,
        ResumeFrom = resume,
        ResumePath = resume is null ? null : CheckpointPath(resume.CheckpointId),
        FirstEpoch = resume is null ? Plan(0) : Plan(resume.Epoch, resume),
    };

    public Task<EpochPlanResult> GetEpochPlan(long generation, int epoch)
    {
        lock (_lock)
        {
            if (epoch > 0 && (!_reports.TryGetValue(epoch - 1, out var previous) || previous.Count < WorldSize))
            {
                return Task.FromResult(new EpochPlanResult(EpochPlanStatus.Pending, null, "waiting for ranks"));
            }

            return Task.FromResult(epoch >= TotalEpochs
                ? new EpochPlanResult(EpochPlanStatus.Finished, null, "done")
                : new EpochPlanResult(EpochPlanStatus.Ready, Plan(epoch), ""));
        }
    }

    public Task<ProgressAck> ReportProgress(ProgressReport report)
    {
        lock (_lock)
        {
            Progress.Add(report);
        }

        return Task.FromResult(new ProgressAck(Directive, ""));
    }

    public Task ReportEpoch(EpochReport report)
    {
        lock (_lock)
        {
            if (!_reports.TryGetValue(report.Epoch, out var reports))
            {
                _reports[report.Epoch] = reports = [];
            }

            reports[report.Rank] = report;
        }

        return report.Rank == StallRank ? Task.Delay(Timeout.Infinite) : Task.CompletedTask;
    }

    public Task ReportFailure(FailureReport report)
    {
        lock (_lock)
        {
            Failures.Add(report);
        }

        return Task.CompletedTask;
    }

    /// <summary>Ids say where training continues: <c>ckpt-e{epoch}</c> at an epoch start, <c>ckpt-e{epoch}-s{step}</c> inside one.</summary>
    public Task<CheckpointTicket> BeginCheckpoint(CheckpointRequest request)
    {
        var id = request.Cursor == 0 ? $"ckpt-e{request.Epoch}" : $"ckpt-e{request.Epoch}-s{request.GlobalStep}";
        lock (_lock)
        {
            _begun[id] = request;
        }

        return Task.FromResult(new CheckpointTicket(id, request.Generation, StagingPathOverride ?? CheckpointPath(id) + ".partial", TicketContext));
    }

    /// <summary>What every ticket says the job knew (the schedule's state, the last epoch's metrics), as the JobGrain's does.</summary>
    public CheckpointContext? TicketContext { get; set; }

    private readonly Dictionary<string, CheckpointRequest> _begun = [];

    /// <summary>Where every checkpoint is staged instead of the job folder (e.g. /dev/full: a disk that is full).</summary>
    public string? StagingPathOverride { get; set; }

    public List<CheckpointAbort> Aborts { get; } = [];

    public Task AbortCheckpoint(CheckpointAbort abort)
    {
        lock (Aborts)
        {
            Aborts.Add(abort);
        }

        return Task.CompletedTask;
    }

    /// <summary>Like the coordinator's sealer: the staged bytes must be the commit's.</summary>
    public Task SealCheckpoint(CheckpointCommit commit)
    {
        var staging = CheckpointPath(commit.CheckpointId) + ".partial";
        var bytes = File.ReadAllBytes(staging);
        if (bytes.Length != commit.SizeBytes || Convert.ToHexStringLower(SHA256.HashData(bytes)) != commit.Sha256)
        {
            throw new CheckpointRejectedException(commit.CheckpointId, "does not match its size or hash");
        }

        File.Move(staging, CheckpointPath(commit.CheckpointId) + ".sealed", overwrite: true);
        return Task.CompletedTask;
    }

    public List<RestoreRejection> Rejections { get; } = [];

    public Task RejectRestore(RestoreRejection rejection)
    {
        lock (Rejections)
        {
            Rejections.Add(rejection);
        }

        return Task.CompletedTask;
    }

    /// <summary>Like the JobGrain: only a sealed upload commits, by a rename.</summary>
    public Task<CheckpointRecord> CommitCheckpoint(CheckpointCommit commit)
    {
        var sealedPath = CheckpointPath(commit.CheckpointId) + ".sealed";
        if (!File.Exists(sealedPath))
        {
            throw new CheckpointRejectedException(commit.CheckpointId, "was never sealed");
        }

        File.Move(sealedPath, CheckpointPath(commit.CheckpointId), overwrite: true);
        CheckpointRecord record;
        lock (_lock)
        {
            var request = _begun[commit.CheckpointId];
            record = new CheckpointRecord
            {
                CheckpointId = commit.CheckpointId,
                Generation = commit.Generation,
                Epoch = request.Epoch,
                Cursor = request.Cursor,
                GlobalStep = request.GlobalStep,
                SizeBytes = commit.SizeBytes,
                Sha256 = commit.Sha256,
            };
            Checkpoints.Add(record);
        }

        return Task.FromResult(record);
    }
}
