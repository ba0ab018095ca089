using Google.Rpc;
using Grpc.Core;
using Plateau.Contracts.Jobs;
using Plateau.Protos.V1;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Api;

/// <summary>Every JobService call and error path through the real host over HTTP/2 on loopback, authenticated.</summary>
public sealed class JobServiceTests(ApiHost host) : IClassFixture<ApiHost>
{
    private const string SpecYaml = """
        apiVersion: plateau/v1
        name: se20-synthetic
        model: { name: se_resnet20_cifar }
        dataset: { kind: synthetic }
        epochs: 2
        batch: { global: 100 }
        schedule:
          plateau: { patience: 0 }
        workers: { min: 2, max: 2, rendezvousTimeoutSeconds: 30 }
        """;

    private readonly Protos.V1.JobService.JobServiceClient _service = host.Client();

    private static async Task<RpcException> Fails(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    private static IReadOnlyList<(string Field, string Description)> Violations(RpcException e) =>
        [.. (e.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations ?? []).Select(v => (v.Field, v.Description))];

    [Fact]
    public async Task SubmitReturnsTheJobInRendezvousWithAGeneratedId()
    {
        var job = await _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml }).ResponseAsync;

        Assert.Matches("^se20-synthetic-[0-9a-f]{6}$", job.JobId);
        Assert.Equal(Protos.V1.JobPhase.Rendezvous, job.Phase);
        Assert.Contains("\"name\":\"se_resnet20_cifar\"", job.SpecJson, StringComparison.Ordinal);
        Assert.Equal(2, job.TotalEpochs);
    }

    [Fact]
    public async Task InvalidSpecIsInvalidArgumentNamingTheField()
    {
        var error = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml.Replace("global: 100", "global: -4", StringComparison.Ordinal) }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("spec.batch.global: must be ≥ 1, got -4", error.Status.Detail);
    }

    public static TheoryData<string, string, string> MalformedSpecs()
    {
        var huge = new string('x', 500_000); // under the 1 MiB spec limit, so the field itself is judged
        return new()
        {
            { "a 500 kB job name", SpecYaml.Replace("name: se20-synthetic", $"name: {huge}", StringComparison.Ordinal), "spec.name" },
            { "a 500 kB model name", SpecYaml.Replace("name: se_resnet20_cifar", $"name: {huge}", StringComparison.Ordinal), "spec.model.name" },
            { "an unknown enum value", SpecYaml.Replace("kind: synthetic", "kind: tape", StringComparison.Ordinal), "spec.dataset.kind" },
            { "an absurd batch", SpecYaml.Replace("global: 100", "global: 99999999999999999999", StringComparison.Ordinal), "spec.batch.global" },
            { "a negative worker count", SpecYaml.Replace("min: 2", "min: -2", StringComparison.Ordinal), "spec.workers.min" },
            { "a number where an object belongs", SpecYaml.Replace("batch: { global: 100 }", "batch: 7", StringComparison.Ordinal), "spec.batch" },
            { "not YAML at all", "{{{{ ]]]] :::", "spec" },
            { "a 1.5 M-character spec (under the 2 MiB message limit)", SpecYaml + "\n# " + new string('x', 3 << 19), "spec" },
            { "binary noise", string.Concat(Enumerable.Range(0, 4096).Select(i => (char)((i * 7919) % 0xD000 + 1))), "spec" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedSpecs))]
    public async Task AMalformedSpecIsInvalidArgumentNamingTheFieldInAShortMessageAndChangesNothing(string what, string spec, string field)
    {
        var before = (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Count;

        var error = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = spec }).ResponseAsync);

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{what}: {error.StatusCode} {error.Status.Detail}");
        Assert.StartsWith(field, error.Status.Detail, StringComparison.Ordinal);
        Assert.True(error.Status.Detail.Length < 2000, $"{what}: a {error.Status.Detail.Length}-character error");
        Assert.Equal(before, (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Count);
    }

    [Fact]
    public async Task UnknownSpecFieldIsInvalidArgument()
    {
        var error = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml + "\nlearningRate: 0.1\n" }).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, "spec.learningRate: unknown field 'learningRate'"), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public async Task MissingSpecAndBadJobIdAreInvalidArgument()
    {
        var noSpec = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest()).ResponseAsync);
        var badId = await Fails(() => _service.GetJobAsync(new GetJobRequest { JobId = "Bad/Id" }).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, "spec: is required (YAML or JSON text of a plateau/v1 JobSpec)"), (noSpec.StatusCode, noSpec.Status.Detail));
        Assert.Equal(StatusCode.InvalidArgument, badId.StatusCode);
        Assert.StartsWith("job_id: must be 1-63 lower-case letters", badId.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownJobIsNotFound()
    {
        var get = await Fails(() => _service.GetJobAsync(new GetJobRequest { JobId = "no-such-job" }).ResponseAsync);
        var cancel = await Fails(() => _service.CancelJobAsync(new CancelJobRequest { JobId = "no-such-job" }).ResponseAsync);

        Assert.Equal((StatusCode.NotFound, "job 'no-such-job' does not exist"), (get.StatusCode, get.Status.Detail));
        Assert.Equal(StatusCode.NotFound, cancel.StatusCode);
    }

    [Fact]
    public async Task WrongPhaseIsFailedPrecondition()
    {
        var job = await _service.SubmitJobAsync(new SubmitJobRequest { JobId = NewJobId("precondition"), Spec = SpecYaml }).ResponseAsync;

        var pause = await Fails(() => _service.PauseJobAsync(new PauseJobRequest { JobId = job.JobId }).ResponseAsync);
        await _service.CancelJobAsync(new CancelJobRequest { JobId = job.JobId, Reason = "test" }).ResponseAsync;
        var resume = await Fails(() => _service.ResumeJobAsync(new ResumeJobRequest { JobId = job.JobId }).ResponseAsync);
        var again = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { JobId = job.JobId, Spec = SpecYaml }).ResponseAsync);

        Assert.Equal((StatusCode.FailedPrecondition, $"job {job.JobId} is Rendezvous: cannot pause (only a Running job can be paused)"), (pause.StatusCode, pause.Status.Detail));
        Assert.Equal(StatusCode.FailedPrecondition, resume.StatusCode);
        Assert.Equal(StatusCode.AlreadyExists, again.StatusCode);
    }

    [Fact]
    public async Task ListJobsShowsSubmittedJobsNewestFirst()
    {
        var first = await _service.SubmitJobAsync(new SubmitJobRequest { JobId = NewJobId("list"), Spec = SpecYaml }).ResponseAsync;
        var second = await _service.SubmitJobAsync(new SubmitJobRequest { JobId = NewJobId("list"), Spec = SpecYaml }).ResponseAsync;

        var listed = (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Select(j => j.JobId).ToList();

        Assert.True(listed.IndexOf(second.JobId) < listed.IndexOf(first.JobId));
        Assert.Equal(StatusCode.InvalidArgument, (await Fails(() => _service.ListJobsAsync(new ListJobsRequest { Limit = 501 }).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task WatchStreamsEventsUntilTheJobEnds()
    {
        var jobId = NewJobId("watch");
        await _service.SubmitJobAsync(new SubmitJobRequest { JobId = jobId, Spec = SpecYaml }).ResponseAsync;
        var grain = host.Grains.GetGrain<IJobGrain>(jobId);
        await grain.RegisterWorker(Worker($"{jobId}-a"));
        await grain.RegisterWorker(Worker($"{jobId}-b"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = _service.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: timeout.Token);
        // The opening snapshot first, so the progress below happens while the stream is open.
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        var updates = new List<JobUpdate> { call.ResponseStream.Current };
        var watch = Task.Run(async () =>
        {
            await foreach (var update in call.ResponseStream.ReadAllAsync(timeout.Token))
            {
                updates.Add(update);
            }
        });

        await grain.ReportProgress(new Contracts.Training.ProgressReport { Generation = 1, Rank = 0, GlobalStep = 4, ImagesPerSecond = 120, Loss = 2.1 });
        await grain.ReportProgress(new Contracts.Training.ProgressReport { Generation = 1, Rank = 1, GlobalStep = 4, ImagesPerSecond = 110, Loss = 2.3 });
        foreach (var epoch in new[] { 0, 1 })
        {
            await grain.ReportEpoch(Report(1, 0, epoch, (epoch + 1) * 10, 60 - (epoch * 10), 100));
            await grain.ReportEpoch(Report(1, 1, epoch, (epoch + 1) * 10, 40, 100));
        }

        await watch;
        Assert.Equal(JobUpdate.UpdateOneofCase.Snapshot, updates[0].UpdateCase);
        Assert.Equal(Protos.V1.JobPhase.Completed, updates[^1].Snapshot.Phase);
        var kinds = updates.Where(u => u.UpdateCase == JobUpdate.UpdateOneofCase.Event).Select(u => u.Event.Kind).ToList();
        Assert.Equal(["transition", "worker_joined", "worker_joined", "lr_decision", "group_formed", "transition", "epoch_metrics", "epoch_metrics", "lr_decision", "transition"], kinds);
        var sequences = updates.Where(u => u.UpdateCase == JobUpdate.UpdateOneofCase.Event).Select(u => u.Event.Sequence).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Contains(updates, u => u.UpdateCase == JobUpdate.UpdateOneofCase.Progress && u.Progress.ImagesPerSecond == 230);
    }

    [Fact]
    public async Task GetMetricsGivesTheEpochHistoryAndEachRunningRanksThroughputWithItsStragglerRatio()
    {
        var jobId = NewJobId("metrics");
        await _service.SubmitJobAsync(new SubmitJobRequest { JobId = jobId, Spec = SpecYaml }).ResponseAsync;
        var grain = host.Grains.GetGrain<IJobGrain>(jobId);
        await grain.RegisterWorker(Worker($"{jobId}-a"));
        await grain.RegisterWorker(Worker($"{jobId}-b"));
        Assert.Empty((await _service.GetMetricsAsync(new GetMetricsRequest { JobId = jobId })).Ranks);

        await grain.ReportProgress(new Contracts.Training.ProgressReport { Generation = 1, Rank = 0, GlobalStep = 4, ImagesPerSecond = 120, Loss = 2.1, OwnSecondsPerStep = 0.1 });
        await grain.ReportProgress(new Contracts.Training.ProgressReport { Generation = 1, Rank = 1, GlobalStep = 4, ImagesPerSecond = 110, Loss = 2.3, OwnSecondsPerStep = 0.3 });
        await grain.ReportEpoch(Report(1, 0, 0, 10, 60, 100));
        await grain.ReportEpoch(Report(1, 1, 0, 10, 40, 100));
        var running = await _service.GetMetricsAsync(new GetMetricsRequest { JobId = jobId });

        Assert.Equal(230, running.ImagesPerSecond);
        Assert.Equal([0, 1], running.Ranks.Select(r => r.Rank));
        Assert.Equal([$"{jobId}-a", $"{jobId}-b"], running.Ranks.Select(r => r.WorkerId).Order());
        Assert.Equal(3, running.Ranks[1].StragglerRatio, precision: 9);
        Assert.Equal(1 / 3.0, running.Ranks[0].StragglerRatio, precision: 9);
        Assert.Equal(0.3, running.Ranks[1].OwnSecondsPerStep);
        var epoch = Assert.Single(running.Epochs);
        Assert.Equal(0, epoch.Epoch);
        Assert.Equal(0.5, epoch.ValTop1Error, precision: 9);
        Assert.Empty((await _service.GetMetricsAsync(new GetMetricsRequest { JobId = jobId, FromEpoch = 1 })).Epochs);

        await grain.ReportEpoch(Report(1, 0, 1, 20, 70, 100));
        await grain.ReportEpoch(Report(1, 1, 1, 20, 50, 100));
        var ended = await _service.GetMetricsAsync(new GetMetricsRequest { JobId = jobId });
        Assert.Equal(Protos.V1.JobPhase.Completed, (await _service.GetJobAsync(new GetJobRequest { JobId = jobId })).Phase);
        Assert.Empty(ended.Ranks);
        Assert.Equal([0, 1], ended.Epochs.Select(m => m.Epoch));
        Assert.Equal(StatusCode.NotFound, (await Fails(() => _service.GetMetricsAsync(new GetMetricsRequest { JobId = NewJobId("absent") }).ResponseAsync)).StatusCode);
        var negative = await Fails(() => _service.GetMetricsAsync(new GetMetricsRequest { JobId = jobId, FromEpoch = -1 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, negative.StatusCode);
        Assert.Equal([("from_epoch", "must be ≥ 0, got -1")], Violations(negative));
    }

    [Fact]
    public async Task ListCheckpointsGivesTheCommittedOnesOldestFirstWithSizeAndDigest()
    {
        var jobId = NewJobId("checkpoints");
        await _service.SubmitJobAsync(new SubmitJobRequest { JobId = jobId, Spec = SpecYaml }).ResponseAsync;
        var grain = host.Grains.GetGrain<IJobGrain>(jobId);
        await grain.RegisterWorker(Worker($"{jobId}-a"));
        await grain.RegisterWorker(Worker($"{jobId}-b"));
        Assert.Empty((await _service.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = jobId })).Checkpoints);

        var committed = new List<Contracts.Checkpoints.CheckpointRecord>();
        foreach (var (step, bytes) in new[] { (10L, new byte[] { 1, 2, 3 }), (20L, new byte[] { 4, 5, 6, 7 }) })
        {
            var ticket = await grain.BeginCheckpoint(new Contracts.Checkpoints.CheckpointRequest { Generation = 1, Rank = 0, Epoch = (int)(step / 10), GlobalStep = step });
            await File.WriteAllBytesAsync(ticket.StagingPath!, bytes);
            var commit = new Contracts.Checkpoints.CheckpointCommit(1, ticket.CheckpointId, bytes.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
            await host.Grains.GetGrain<Contracts.Checkpoints.ICheckpointSealerGrain>(jobId).Seal(commit);
            committed.Add(await grain.CommitCheckpoint(commit));
        }

        var listed = (await _service.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = jobId })).Checkpoints;
        Assert.Equal(committed.Select(c => c.CheckpointId), listed.Select(c => c.CheckpointId));
        Assert.Equal([10L, 20L], listed.Select(c => c.GlobalStep));
        Assert.Equal([3L, 4L], listed.Select(c => c.SizeBytes));
        Assert.Equal(committed.Select(c => c.Sha256), listed.Select(c => c.Sha256));
        Assert.Equal(StatusCode.NotFound, (await Fails(() => _service.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = NewJobId("absent") }).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task AnInvalidSpecCarriesOneFieldViolationPerProblemInTheStatusDetails()
    {
        var spec = SpecYaml.Replace("batch: { global: 100 }", "batch: { global: -4 }\noptimizer: { lr: -1 }", StringComparison.Ordinal);

        var error = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = spec }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal([("spec.batch.global", "must be ≥ 1, got -4"), ("spec.optimizer.lr", "must be > 0, got -1")], Violations(error).Order().ToList());
        Assert.Equal("spec.batch.global: must be ≥ 1, got -4; spec.optimizer.lr: must be > 0, got -1", error.Status.Detail);
    }

    [Fact]
    public async Task RequestFieldProblemsAreFieldViolationsToo()
    {
        var badId = await Fails(() => _service.GetJobAsync(new GetJobRequest { JobId = "Bad/Id" }).ResponseAsync);
        var longReason = await Fails(() => _service.CancelJobAsync(new CancelJobRequest { JobId = "some-job", Reason = new string('r', 1025) }).ResponseAsync);
        var badToken = await Fails(() => _service.ListJobsAsync(new ListJobsRequest { PageToken = "not-a-token" }).ResponseAsync);
        var badPhase = await Fails(() => _service.ListJobsAsync(new ListJobsRequest { Phases = { Protos.V1.JobPhase.Unspecified } }).ResponseAsync);
        var badRequestId = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml, RequestId = "has space" }).ResponseAsync);

        Assert.Equal("job_id", Assert.Single(Violations(badId)).Field);
        Assert.Equal(("reason", "is 1025 characters; at most 1024 are accepted"), Assert.Single(Violations(longReason)));
        Assert.Equal("page_token", Assert.Single(Violations(badToken)).Field);
        Assert.Equal("phases", Assert.Single(Violations(badPhase)).Field);
        Assert.Equal("request_id", Assert.Single(Violations(badRequestId)).Field);
    }

    [Fact]
    public async Task ARequestOverTheMessageLimitIsResourceExhaustedAndChangesNothing()
    {
        var before = (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Count;

        var error = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml + "\n# " + new string('x', 5 << 20) }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(before, (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Count);
    }

    [Fact]
    public async Task SubmittingATakenJobIdIsAlreadyExists()
    {
        var job = await _service.SubmitJobAsync(new SubmitJobRequest { JobId = NewJobId("taken"), Spec = SpecYaml }).ResponseAsync;

        var again = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { JobId = job.JobId, Spec = SpecYaml }).ResponseAsync);

        Assert.Equal((StatusCode.AlreadyExists, $"job '{job.JobId}' already exists"), (again.StatusCode, again.Status.Detail));
        Assert.Equal(job.JobId, again.GetRpcStatus()?.GetDetail<ResourceInfo>()?.ResourceName);
    }

    [Fact]
    public async Task TheSameRequestIdAndSpecAnswerTheSameJobWhateverTheSpecsFormatting()
    {
        var requestId = "retry-" + Guid.NewGuid().ToString("N");
        var asJson = """{ "apiVersion": "plateau/v1", "name": "se20-synthetic", "model": { "name": "se_resnet20_cifar" }, "dataset": { "kind": "synthetic" }, "epochs": 2, "batch": { "global": 100 }, "schedule": { "plateau": { "patience": 0 } }, "workers": { "min": 2, "max": 2, "rendezvousTimeoutSeconds": 30 } }""";
        var before = (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Count;

        var first = await _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml, RequestId = requestId }).ResponseAsync;
        var retry = await _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml, RequestId = requestId }).ResponseAsync;
        var reformatted = await _service.SubmitJobAsync(new SubmitJobRequest { Spec = asJson, RequestId = requestId }).ResponseAsync;

        Assert.Equal(first.JobId, retry.JobId);
        Assert.Equal(first.JobId, reformatted.JobId);
        Assert.Equal(first.CreatedAt, retry.CreatedAt);
        Assert.Equal(before + 1, (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Count);
    }

    [Fact]
    public async Task TheSameRequestIdWithADifferentSpecOrJobIdIsAlreadyExistsAndChangesNothing()
    {
        var requestId = "reuse-" + Guid.NewGuid().ToString("N");
        var first = await _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml, RequestId = requestId }).ResponseAsync;
        var before = (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Count;

        var otherSpec = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml.Replace("epochs: 2", "epochs: 3", StringComparison.Ordinal), RequestId = requestId }).ResponseAsync);
        var otherId = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml, JobId = NewJobId("other"), RequestId = requestId }).ResponseAsync);

        Assert.Equal(StatusCode.AlreadyExists, otherSpec.StatusCode);
        Assert.Contains($"was used for job {first.JobId} with a different spec or job_id", otherSpec.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.AlreadyExists, otherId.StatusCode);
        Assert.Equal(before, (await _service.ListJobsAsync(new ListJobsRequest { Limit = 500 }).ResponseAsync).Jobs.Count);
        Assert.Equal(2, (await _service.GetJobAsync(new GetJobRequest { JobId = first.JobId }).ResponseAsync).TotalEpochs);
    }

    [Fact]
    public async Task ARequestIdWhoseSpecWasInvalidStaysFreeForTheCorrectedSpec()
    {
        var requestId = "fix-" + Guid.NewGuid().ToString("N");

        var invalid = await Fails(() => _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml.Replace("global: 100", "global: 0", StringComparison.Ordinal), RequestId = requestId }).ResponseAsync);
        var job = await _service.SubmitJobAsync(new SubmitJobRequest { Spec = SpecYaml, RequestId = requestId }).ResponseAsync;

        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Equal(Protos.V1.JobPhase.Rendezvous, job.Phase);
    }

    [Fact]
    public async Task ListJobsFiltersByPhaseAndPagesWithTokensNewestFirst()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await _service.SubmitJobAsync(new SubmitJobRequest { JobId = NewJobId("page"), Spec = SpecYaml }).ResponseAsync).JobId);
        }

        await _service.CancelJobAsync(new CancelJobRequest { JobId = ids[1], Reason = "filter test" }).ResponseAsync;
        await _service.CancelJobAsync(new CancelJobRequest { JobId = ids[3], Reason = "filter test" }).ResponseAsync;

        var pages = new List<ListJobsResponse>();
        var token = "";
        do
        {
            var page = await _service.ListJobsAsync(new ListJobsRequest { Limit = 2, PageToken = token }).ResponseAsync;
            pages.Add(page);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        var cancelled = new List<string>();
        token = "";
        do
        {
            var page = await _service.ListJobsAsync(new ListJobsRequest { Limit = 1, PageToken = token, Phases = { Protos.V1.JobPhase.Cancelled } }).ResponseAsync;
            Assert.True(page.Jobs.Count <= 1);
            cancelled.AddRange(page.Jobs.Select(j => j.JobId));
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        var all = pages.SelectMany(p => p.Jobs.Select(j => j.JobId)).ToList();
        Assert.All(pages, p => Assert.True(p.Jobs.Count <= 2));
        Assert.Equal(all.Distinct().Count(), all.Count);
        Assert.Equal([ids[4], ids[3], ids[2], ids[1], ids[0]], all.Where(ids.Contains).ToList());
        Assert.Equal([ids[3], ids[1]], cancelled.Where(ids.Contains).ToList());
    }

    [Fact]
    public async Task APageTokenStaysValidWhileNewJobsArrive()
    {
        var older = (await _service.SubmitJobAsync(new SubmitJobRequest { JobId = NewJobId("stable"), Spec = SpecYaml }).ResponseAsync).JobId;
        var newer = (await _service.SubmitJobAsync(new SubmitJobRequest { JobId = NewJobId("stable"), Spec = SpecYaml }).ResponseAsync).JobId;
        var first = await _service.ListJobsAsync(new ListJobsRequest { Limit = 1 }).ResponseAsync;

        await _service.SubmitJobAsync(new SubmitJobRequest { JobId = NewJobId("stable"), Spec = SpecYaml }).ResponseAsync;
        var second = await _service.ListJobsAsync(new ListJobsRequest { Limit = 1, PageToken = first.NextPageToken }).ResponseAsync;

        Assert.Equal(newer, Assert.Single(first.Jobs).JobId);
        Assert.Equal(older, Assert.Single(second.Jobs).JobId);
    }
}
