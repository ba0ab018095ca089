using Grpc.Core;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Jobs;
using Plateau.Coordinator.Api;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Tests.Jobs;
using Plateau.Protos.V1;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Api;

public sealed class JobServiceTests(CoordinatorCluster fixture) : IClassFixture<CoordinatorCluster>
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

    private readonly Coordinator.Api.JobService _service = new(fixture.Grains, Options.Create(new CoordinatorOptions { WatchPollMilliseconds = 20 }), TimeProvider.System,
        new CheckpointStore(Options.Create(new CheckpointStoreOptions { RootDirectory = fixture.CheckpointDirectory }), Microsoft.Extensions.Logging.Abstractions.NullLogger<CheckpointStore>.Instance));
    private readonly TestServerCallContext _context = new();

    private static async Task<RpcException> Fails(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    [Fact]
    public async Task SubmitReturnsTheJobInRendezvousWithAGeneratedId()
    {
        var job = await _service.SubmitJob(new SubmitJobRequest { Spec = SpecYaml }, _context);

        Assert.Matches("^se20-synthetic-[0-9a-f]{6}$", job.JobId);
        Assert.Equal(Protos.V1.JobPhase.Rendezvous, job.Phase);
        Assert.Contains("\"name\":\"se_resnet20_cifar\"", job.SpecJson, StringComparison.Ordinal);
        Assert.Equal(2, job.TotalEpochs);
    }

    [Fact]
    public async Task InvalidSpecIsInvalidArgumentNamingTheField()
    {
        var error = await Fails(() => _service.SubmitJob(new SubmitJobRequest { Spec = SpecYaml.Replace("global: 100", "global: -4", StringComparison.Ordinal) }, _context));

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
            { "a 5 MB spec", SpecYaml + "\n# " + new string('x', 5 << 20), "spec" },
            { "binary noise", string.Concat(Enumerable.Range(0, 4096).Select(i => (char)((i * 7919) % 0xD000 + 1))), "spec" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedSpecs))]
    public async Task AMalformedSpecIsInvalidArgumentNamingTheFieldInAShortMessageAndChangesNothing(string what, string spec, string field)
    {
        var before = (await _service.ListJobs(new ListJobsRequest { Limit = 500 }, _context)).Jobs.Count;

        var error = await Fails(() => _service.SubmitJob(new SubmitJobRequest { Spec = spec }, _context));

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{what}: {error.StatusCode} {error.Status.Detail}");
        Assert.StartsWith(field, error.Status.Detail, StringComparison.Ordinal);
        Assert.True(error.Status.Detail.Length < 2000, $"{what}: a {error.Status.Detail.Length}-character error");
        Assert.Equal(before, (await _service.ListJobs(new ListJobsRequest { Limit = 500 }, _context)).Jobs.Count);
    }

    [Fact]
    public async Task UnknownSpecFieldIsInvalidArgument()
    {
        var error = await Fails(() => _service.SubmitJob(new SubmitJobRequest { Spec = SpecYaml + "\nlearningRate: 0.1\n" }, _context));

        Assert.Equal((StatusCode.InvalidArgument, "spec.learningRate: unknown field 'learningRate'"), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public async Task MissingSpecAndBadJobIdAreInvalidArgument()
    {
        var noSpec = await Fails(() => _service.SubmitJob(new SubmitJobRequest(), _context));
        var badId = await Fails(() => _service.GetJob(new GetJobRequest { JobId = "Bad/Id" }, _context));

        Assert.Equal((StatusCode.InvalidArgument, "spec: is required (YAML or JSON text of a plateau/v1 JobSpec)"), (noSpec.StatusCode, noSpec.Status.Detail));
        Assert.Equal(StatusCode.InvalidArgument, badId.StatusCode);
        Assert.StartsWith("job_id: must be 1-63 lower-case letters", badId.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownJobIsNotFound()
    {
        var get = await Fails(() => _service.GetJob(new GetJobRequest { JobId = "no-such-job" }, _context));
        var cancel = await Fails(() => _service.CancelJob(new CancelJobRequest { JobId = "no-such-job" }, _context));

        Assert.Equal((StatusCode.NotFound, "job 'no-such-job' does not exist"), (get.StatusCode, get.Status.Detail));
        Assert.Equal(StatusCode.NotFound, cancel.StatusCode);
    }

    [Fact]
    public async Task WrongPhaseIsFailedPrecondition()
    {
        var job = await _service.SubmitJob(new SubmitJobRequest { JobId = NewJobId("precondition"), Spec = SpecYaml }, _context);

        var pause = await Fails(() => _service.PauseJob(new PauseJobRequest { JobId = job.JobId }, _context));
        await _service.CancelJob(new CancelJobRequest { JobId = job.JobId, Reason = "test" }, _context);
        var resume = await Fails(() => _service.ResumeJob(new ResumeJobRequest { JobId = job.JobId }, _context));
        var again = await Fails(() => _service.SubmitJob(new SubmitJobRequest { JobId = job.JobId, Spec = SpecYaml }, _context));

        Assert.Equal((StatusCode.FailedPrecondition, $"job {job.JobId} is Rendezvous: cannot pause (only a Running job can be paused)"), (pause.StatusCode, pause.Status.Detail));
        Assert.Equal(StatusCode.FailedPrecondition, resume.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
    }

    [Fact]
    public async Task ListJobsShowsSubmittedJobsNewestFirst()
    {
        var first = await _service.SubmitJob(new SubmitJobRequest { JobId = NewJobId("list"), Spec = SpecYaml }, _context);
        var second = await _service.SubmitJob(new SubmitJobRequest { JobId = NewJobId("list"), Spec = SpecYaml }, _context);

        var listed = (await _service.ListJobs(new ListJobsRequest { Limit = 500 }, _context)).Jobs.Select(j => j.JobId).ToList();

        Assert.True(listed.IndexOf(second.JobId) < listed.IndexOf(first.JobId));
        Assert.Equal(StatusCode.InvalidArgument, (await Fails(() => _service.ListJobs(new ListJobsRequest { Limit = 501 }, _context))).StatusCode);
    }

    [Fact]
    public async Task WatchStreamsEventsUntilTheJobEnds()
    {
        var jobId = NewJobId("watch");
        await _service.SubmitJob(new SubmitJobRequest { JobId = jobId, Spec = SpecYaml }, _context);
        var grain = fixture.Grains.GetGrain<IJobGrain>(jobId);
        await grain.RegisterWorker(Worker($"{jobId}-a"));
        await grain.RegisterWorker(Worker($"{jobId}-b"));
        var stream = new RecordingStreamWriter<JobUpdate>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watch = _service.WatchJob(new WatchJobRequest { JobId = jobId }, stream, new TestServerCallContext(timeout.Token));

        await grain.ReportProgress(new Contracts.Training.ProgressReport { Generation = 1, Rank = 0, GlobalStep = 4, ImagesPerSecond = 120, Loss = 2.1 });
        await grain.ReportProgress(new Contracts.Training.ProgressReport { Generation = 1, Rank = 1, GlobalStep = 4, ImagesPerSecond = 110, Loss = 2.3 });
        foreach (var epoch in new[] { 0, 1 })
        {
            await grain.ReportEpoch(Report(1, 0, epoch, (epoch + 1) * 10, 60 - (epoch * 10), 100));
            await grain.ReportEpoch(Report(1, 1, epoch, (epoch + 1) * 10, 40, 100));
        }

        await watch;
        var updates = stream.Messages.ToList();
        Assert.Equal(JobUpdate.UpdateOneofCase.Snapshot, updates[0].UpdateCase);
        Assert.Equal(Protos.V1.JobPhase.Completed, updates[^1].Snapshot.Phase);
        var kinds = updates.Where(u => u.UpdateCase == JobUpdate.UpdateOneofCase.Event).Select(u => u.Event.Kind).ToList();
        Assert.Equal(["transition", "worker_joined", "worker_joined", "lr_decision", "group_formed", "transition", "epoch_metrics", "epoch_metrics", "lr_decision", "transition"], kinds);
        var sequences = updates.Where(u => u.UpdateCase == JobUpdate.UpdateOneofCase.Event).Select(u => u.Event.Sequence).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Contains(updates, u => u.UpdateCase == JobUpdate.UpdateOneofCase.Progress && u.Progress.ImagesPerSecond == 230);
    }
}
