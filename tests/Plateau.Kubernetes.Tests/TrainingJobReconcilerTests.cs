using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;

namespace Plateau.Kubernetes.Tests;

public sealed class TrainingJobReconcilerTests
{
    private readonly FakeJobControl _jobs = new();
    private readonly FakeTrainingJobApi _api = new();

    [Fact]
    public async Task A_new_TrainingJob_is_submitted_under_its_name_holds_the_finalizer_and_shows_the_jobs_phase()
    {
        _api.Apply(TrainingJobs.New());

        await ReconcileAsync("se-resnet20-cifar");

        Assert.Equal(["se-resnet20-cifar"], _jobs.Submitted);
        Assert.Equal("se-resnet20-cifar", _jobs.Jobs["se-resnet20-cifar"].Spec.Name);
        var stored = _api.Stored["se-resnet20-cifar"];
        Assert.Contains(TrainingJobReconciler.Finalizer, stored.Metadata.Finalizers);
        Assert.Equal("Rendezvous", stored.Status!.Phase);
        Assert.Equal("se-resnet20-cifar", stored.Status.JobId);
        Assert.Equal(1, stored.Status.ObservedGeneration);
        Assert.Contains(stored.Status.Conditions, c => c is { Type: TrainingJobConditions.Submitted, Status: "True" });
        Assert.Contains(stored.Status.Conditions, c => c is { Type: TrainingJobConditions.SpecApplied, Status: "True" });
    }

    [Fact]
    public async Task Reconciling_again_submits_nothing_and_the_status_follows_the_jobs_epoch_lr_val_error_and_checkpoint()
    {
        _api.Apply(TrainingJobs.New());
        await ReconcileAsync("se-resnet20-cifar");
        var first = _api.Stored["se-resnet20-cifar"].Status!;
        Advance("se-resnet20-cifar", epoch: 2, lr: 0.01, valError: 0.31);

        await ReconcileAsync("se-resnet20-cifar");

        Assert.Single(_jobs.Submitted);
        var status = _api.Stored["se-resnet20-cifar"].Status!;
        Assert.Equal("Running", status.Phase);
        Assert.Equal(2, status.Epoch);
        Assert.Equal(0.01, status.LearningRate);
        Assert.Equal(0.31, status.ValTop1Error);
        Assert.Equal("ckpt-2", status.LatestCheckpoint);
        Assert.Equal(1, status.Restarts);
        // Conditions that did not change keep their transition time.
        Assert.Equal(first.Conditions.Select(c => c.LastTransitionTime), status.Conditions.Select(c => c.LastTransitionTime));
    }

    [Fact]
    public async Task An_unchanged_job_writes_no_status()
    {
        _api.Apply(TrainingJobs.New());
        await ReconcileAsync("se-resnet20-cifar");
        var writes = _api.StatusWrites;

        await ReconcileAsync("se-resnet20-cifar");
        await ReconcileAsync("se-resnet20-cifar");

        Assert.Equal(writes, _api.StatusWrites);
    }

    [Theory]
    [InlineData("epochs", "0", "spec.epochs")]
    [InlineData("optimizer", """{ "lrr": 0.1 }""", "spec.optimizer.lrr")]
    [InlineData("name", "\"other\"", "spec.name")]
    public async Task An_invalid_spec_is_rejected_naming_the_field_and_nothing_is_submitted(string field, string value, string named)
    {
        _api.Apply(TrainingJobs.New(change: spec => spec[field] = System.Text.Json.Nodes.JsonNode.Parse(value)));

        await ReconcileAsync("se-resnet20-cifar");

        Assert.Empty(_jobs.Submitted);
        var status = _api.Stored["se-resnet20-cifar"].Status!;
        Assert.Equal(TrainingJobPhases.Rejected, status.Phase);
        var submitted = Assert.Single(status.Conditions);
        Assert.Equal(("Submitted", "False", "InvalidSpec"), (submitted.Type, submitted.Status, submitted.Reason));
        Assert.Contains(named, submitted.Message, StringComparison.Ordinal);
        Assert.Empty(_api.Stored["se-resnet20-cifar"].Metadata.Finalizers ?? []);
    }

    [Fact]
    public async Task A_name_that_cannot_be_a_job_id_is_rejected_naming_metadata_name()
    {
        var name = "a" + new string('b', 70);
        _api.Apply(TrainingJobs.New(name));

        await ReconcileAsync(name);

        Assert.Empty(_jobs.Submitted);
        var status = _api.Stored[name].Status!;
        Assert.Equal(TrainingJobPhases.Rejected, status.Phase);
        Assert.Contains("metadata.name", Assert.Single(status.Conditions).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spec_edited_after_submission_is_refused_and_the_job_runs_on_with_its_submitted_spec()
    {
        _api.Apply(TrainingJobs.New());
        await ReconcileAsync("se-resnet20-cifar");
        var edited = _api.Stored["se-resnet20-cifar"];
        edited.Spec!["epochs"] = 30;
        edited.Metadata.Generation = 2;

        await ReconcileAsync("se-resnet20-cifar");

        Assert.Single(_jobs.Submitted);
        Assert.Equal(3, _jobs.Jobs["se-resnet20-cifar"].Spec.Epochs);
        var status = _api.Stored["se-resnet20-cifar"].Status!;
        Assert.Equal(2, status.ObservedGeneration);
        Assert.Equal("Rendezvous", status.Phase);
        var applied = Assert.Single(status.Conditions, c => c.Type == TrainingJobConditions.SpecApplied);
        Assert.Equal(("False", "SpecUpdateRefused"), (applied.Status, applied.Reason));

        // Reverting the edit makes the spec the submitted one again.
        _api.Stored["se-resnet20-cifar"].Spec!["epochs"] = 3;
        await ReconcileAsync("se-resnet20-cifar");
        Assert.Equal("True", _api.Stored["se-resnet20-cifar"].Status!.Conditions.Single(c => c.Type == TrainingJobConditions.SpecApplied).Status);
    }

    [Fact]
    public async Task Deleting_the_TrainingJob_cancels_its_running_job_and_then_releases_the_finalizer()
    {
        _api.Apply(TrainingJobs.New());
        await ReconcileAsync("se-resnet20-cifar");
        Advance("se-resnet20-cifar", epoch: 1, lr: 0.1, valError: 0.5);
        _api.Stored["se-resnet20-cifar"].Metadata.DeletionTimestamp = DateTime.UtcNow;

        await ReconcileAsync("se-resnet20-cifar");

        Assert.Equal([("se-resnet20-cifar", "TrainingJob deleted")], _jobs.Cancelled);
        Assert.Equal(JobPhase.Cancelled, _jobs.Jobs["se-resnet20-cifar"].Phase);
        Assert.False(_api.Stored.ContainsKey("se-resnet20-cifar"), "the finalizer was not released, so the object is never deleted");
    }

    [Fact]
    public async Task Deleting_the_TrainingJob_of_a_finished_job_cancels_nothing()
    {
        _api.Apply(TrainingJobs.New());
        await ReconcileAsync("se-resnet20-cifar");
        _jobs.Jobs["se-resnet20-cifar"] = _jobs.Jobs["se-resnet20-cifar"] with { Phase = JobPhase.Completed };
        _api.Stored["se-resnet20-cifar"].Metadata.DeletionTimestamp = DateTime.UtcNow;

        await ReconcileAsync("se-resnet20-cifar");

        Assert.Empty(_jobs.Cancelled);
        Assert.False(_api.Stored.ContainsKey("se-resnet20-cifar"));
    }

    [Fact]
    public async Task After_a_coordinator_restart_mid_job_a_new_controller_continues_the_status_without_resubmitting()
    {
        _api.Apply(TrainingJobs.New());
        await ReconcileAsync("se-resnet20-cifar");
        Advance("se-resnet20-cifar", epoch: 1, lr: 0.1, valError: 0.6);
        await ReconcileAsync("se-resnet20-cifar");

        // The coordinator restarts: a fresh reconciler, the jobs restored from the grains' persisted state.
        var restored = new FakeJobControl();
        foreach (var (id, summary) in _jobs.Jobs)
        {
            restored.Jobs[id] = summary with { Epoch = 2, Restarts = 2 };
        }

        var reconciler = new TrainingJobReconciler(restored, _api, TimeProvider.System);
        await reconciler.ReconcileAsync((await _api.ListAsync(default)).Single(), default);

        Assert.Empty(restored.Submitted);
        var status = _api.Stored["se-resnet20-cifar"].Status!;
        Assert.Equal(("Running", 2, 2), (status.Phase, status.Epoch, status.Restarts));
    }

    [Fact]
    public async Task A_job_submitted_meanwhile_under_the_same_id_is_adopted_not_submitted_twice()
    {
        _api.Apply(TrainingJobs.New());
        var racing = new RacingJobControl(_jobs);
        var reconciler = new TrainingJobReconciler(racing, _api, TimeProvider.System);

        await reconciler.ReconcileAsync((await _api.ListAsync(default)).Single(), default);

        Assert.Single(_jobs.Submitted);
        Assert.Equal("Rendezvous", _api.Stored["se-resnet20-cifar"].Status!.Phase);
    }

    [Fact]
    public async Task One_TrainingJob_whose_reconcile_fails_does_not_stop_the_pass_over_the_others()
    {
        _api.Apply(TrainingJobs.New("first"));
        _api.Apply(TrainingJobs.New("second"));
        _jobs.Failing.Add("first");
        var reconciler = new TrainingJobReconciler(_jobs, _api, TimeProvider.System);
        var controller = new TrainingJobController(_api, reconciler, Microsoft.Extensions.Options.Options.Create(new TrainingJobControllerOptions()), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainingJobController>.Instance);

        await controller.PassAsync(default);

        Assert.Equal(["second"], _jobs.Submitted);
        Assert.Null(_api.Stored["first"].Status);
    }

    private async Task ReconcileAsync(string name)
    {
        var reconciler = new TrainingJobReconciler(_jobs, _api, TimeProvider.System);
        await reconciler.ReconcileAsync((await _api.ListAsync(default)).Single(j => j.Metadata.Name == name), default);
    }

    private void Advance(string jobId, int epoch, double lr, double valError)
    {
        var job = _jobs.Jobs[jobId];
        _jobs.Jobs[jobId] = job with
        {
            Phase = JobPhase.Running,
            Epoch = epoch,
            LearningRate = lr,
            Restarts = 1,
            MetricsHistory = [.. job.MetricsHistory, new EpochMetrics { Epoch = epoch, ValTop1Error = valError, LearningRate = lr }],
            LatestCheckpoint = new CheckpointRecord { CheckpointId = $"ckpt-{epoch}", Sha256 = "00", Epoch = epoch },
        };
    }

    /// <summary>Another submission lands between the controller's read and its submit.</summary>
    private sealed class RacingJobControl(FakeJobControl inner) : IJobControl
    {
        private bool _raced;

        public Task<JobSummary?> GetAsync(string jobId) => inner.GetAsync(jobId);

        public async Task<JobSummary> SubmitAsync(string jobId, string specText)
        {
            if (!_raced)
            {
                _raced = true;
                await inner.SubmitAsync(jobId, specText);
            }

            return await inner.SubmitAsync(jobId, specText);
        }

        public Task<JobSummary> CancelAsync(string jobId, string reason) => inner.CancelAsync(jobId, reason);
    }
}
