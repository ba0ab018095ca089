using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Plateau.Collective;
using Plateau.Collective.Hosting;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Training;
using Plateau.Contracts.Workers;
using Plateau.Data.Loading;
using Plateau.Data.Metrics;
using Plateau.Data.Sampling;
using Plateau.Worker.Checkpointing;
using Plateau.ServiceDefaults.Telemetry;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// One rank's training for one generation, run start to end on the device's dedicated thread:
/// open the data, build the model from the seed, join the ring, check the parameter layout across
/// ranks, restore (rank 0) and broadcast the starting weights, then train epoch after epoch as the
/// JobGrain plans them — the rate of every step from the plan — evaluating exactly on this rank's
/// validation share, reporting counts, and (rank 0) checkpointing at epoch ends and, with
/// <c>spec.checkpoint.everySteps</c> or <c>everyMinutes</c>, inside epochs (saved in the background).
/// Any failure is reported to the job with the rank that failed.
/// </summary>
public sealed partial class RankTrainer
{
    private readonly Assignment _assignment;
    private readonly Device _device;
    private readonly CollectivePeerRegistry _registry;
    private readonly IReadOnlyList<string> _peerAddresses;
    private readonly IJobChannel _job;
    private readonly TrainerOptions _options;
    private readonly TrainerControl _control;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Action<WorkerTrainerState, string> _onState;
    private readonly TrainingDataCache _datasets;
    private readonly ICheckpointTransport _checkpoints;
    private readonly RetainedSlot? _memory;
    private readonly LocalDeviceGroup? _localDevices;
    private volatile RankTelemetry? _telemetry;

    public RankTrainer(
        Assignment assignment,
        Device device,
        CollectivePeerRegistry registry,
        IReadOnlyList<string> peerAddresses,
        IJobChannel job,
        TrainerOptions options,
        TrainerControl control,
        ILoggerFactory loggerFactory,
        Action<WorkerTrainerState, string>? onState = null,
        TrainingDataCache? datasets = null,
        ICheckpointTransport? checkpoints = null,
        RetainedSlot? memory = null,
        LocalDeviceGroup? localDevices = null)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(peerAddresses);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        if (peerAddresses.Count != assignment.WorldSize)
        {
            throw new ArgumentException($"{peerAddresses.Count} peer addresses for world size {assignment.WorldSize}", nameof(peerAddresses));
        }

        _assignment = assignment;
        _device = device;
        _registry = registry;
        _peerAddresses = peerAddresses;
        _job = job;
        _options = options;
        _control = control;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<RankTrainer>();
        _onState = onState ?? ((_, _) => { });
        _datasets = datasets ?? new TrainingDataCache();
        _checkpoints = checkpoints ?? new SharedStoreTransport();
        _memory = memory;
        _localDevices = localDevices;
        var hierarchy = WorkerRing.Plan(assignment);
        if (hierarchy is not null != localDevices is not null
            || (localDevices is not null && (localDevices.WorkerIndex, localDevices.Workers, localDevices.LocalDevices) != hierarchy))
        {
            throw new ArgumentException(hierarchy is { } shape
                ? $"rank {assignment.Rank} reduces hierarchically (spec.communication.reduction {assignment.Spec.Communication.Reduction}, devicesPerWorker {shape.Devices}) and needs its worker's local device group for worker {shape.WorkerIndex} of {shape.Workers}"
                : $"rank {assignment.Rank} reduces on the flat ring (spec.communication.reduction {assignment.Spec.Communication.Reduction}) but was given a local device group", nameof(localDevices));
        }
    }

    public ProgressMeter Meter { get; } = new();

    private int _nonFiniteInARow;

    private int Rank => _assignment.Rank;

    private long Generation => _assignment.Generation;

    /// <summary>Trains until the job finishes, a stop is agreed, or something fails. Blocks the calling thread.</summary>
    public TrainerResult Run()
    {
        var first = _assignment.FirstEpoch;
        Meter.SetPosition(first.Epoch, first.StartGlobalStep, first.LrSegments.Count > 0 ? first.LearningRateAt(first.StartGlobalStep) : 0);
        using var reporterStop = new CancellationTokenSource();
        var reporter = Task.Run(() => ReportProgressAsync(reporterStop.Token));
        try
        {
            return Train();
        }
        catch (Exception e) when (_control.StopRequested || (e is OperationCanceledException && _control.Cancellation.IsCancellationRequested))
        {
            var reason = _control.StopReason ?? "cancelled";
            Log.StoppedWithError(_logger, _assignment.JobId, Generation, Rank, reason, e.Message);
            return Ended(TrainerOutcome.Stopped, $"stopped: {reason}");
        }
        catch (StaleGenerationException e)
        {
            return Ended(TrainerOutcome.Stopped, $"generation {Generation} is no longer current: {e.Message}");
        }
        catch (DivergedException e)
        {
            // Every rank gets here at the same step; each reports, the first report fails the job.
            Report(new FailureReport { Generation = Generation, ReporterRank = Rank, Reason = e.Message, Scope = FailureScope.Job });
            return Ended(TrainerOutcome.Failed, e.Message);
        }
        catch (CollectiveException e)
        {
            var failed = e.FailedRank >= 0 ? e.FailedRank : (int?)null;
            Report(new FailureReport { Generation = Generation, ReporterRank = Rank, FailedRank = failed, FailedAddress = e.FailedAddress, Reason = e.Message });
            return Ended(TrainerOutcome.Failed, e.Message);
        }
        catch (Exception e)
        {
            var reason = $"rank {Rank} ({_assignment.WorkerId}/{_assignment.DeviceId}) failed: {e.GetType().Name}: {e.Message}";
            Log.Failed(_logger, _assignment.JobId, Generation, Rank, e);
            Report(new FailureReport { Generation = Generation, ReporterRank = Rank, FailedRank = Rank, FailedAddress = _peerAddresses[Rank], Reason = reason });
            return Ended(TrainerOutcome.Failed, reason);
        }
        finally
        {
            reporterStop.Cancel();
            try
            {
                reporter.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // the reporter logs its own problems
            }
        }
    }

    private TrainerResult Train()
    {
        try
        {
            return TrainOnce();
        }
        catch (Exception e) when (_localDevices is not null)
        {
            // Also a failure before this device joined its worker's group: the other local devices must not wait for it.
            _localDevices.Abandon(_assignment.LocalRank, e);
            throw;
        }
    }

    private TrainerResult TrainOnce()
    {
        var token = _control.Cancellation;
        var spec = _assignment.Spec;
        var plan = _assignment.FirstEpoch;
        _onState(WorkerTrainerState.Starting, $"opening {spec.Dataset.Kind} data and building {spec.Model.Name}");
        using var dataLease = _datasets.Acquire(spec.Dataset, spec.Seed);
        var data = dataLease.Data;
        if (data.Summary != _assignment.Dataset)
        {
            throw new InvalidOperationException($"this worker sees the dataset as {data.Summary}, the job formed with {_assignment.Dataset}");
        }

        using var model = WorkerModels.Create(spec.Model, _assignment.Dataset.Classes, spec.Seed);
        model.to(_device);
        using var lastStep = new LastCompletedStep(model);
        var (group, membership) = Join(token);
        try
        {
            using var step = new DataParallelStep(model, group, plan.Momentum, plan.WeightDecay, plan.Nesterov, _options.BucketCapBytes,
                overlapReduction: _options.OverlapGradientReduction);
            StateSync.VerifyLayout(step, token);
            _telemetry = new RankTelemetry(_assignment.JobId, Rank, _assignment.WorldSize, step.Buckets.GradientElements * sizeof(float));
            var source = _assignment.ResumeFromPeer?.SourceRank ?? 0;
            if (_assignment.ResumeFromPeer is { } peer && Rank == peer.SourceRank)
            {
                // A survivor of the last generation starts this one from what it kept in memory; without it
                // (its process restarted since it registered) this generation fails and the next one forms without it.
                using var kept = _memory?.Take(peer.State)
                    ?? throw new InvalidOperationException($"rank {Rank} was to start generation {Generation} from the state it kept after step {peer.State.GlobalStep} of generation {peer.State.Generation}, but it holds none");
                kept.Restore(step);
                Log.RestoredFromMemory(_logger, _assignment.JobId, Generation, Rank, peer.State.Generation, peer.State.Epoch, peer.State.GlobalStep);
            }
            else if (Rank == 0 && _assignment.ResumeFromPeer is null && _assignment.ResumeFrom is { } record)
            {
                try
                {
                    using var file = _checkpoints.Fetch(_assignment, record, token);
                    CheckpointFile.Restore(file.Path, record.SizeBytes, record.Sha256, step);
                }
                catch (CheckpointMismatchException e)
                {
                    // Corrupt bytes stay corrupt: the job drops this checkpoint and re-forms from the one before,
                    // instead of failing this generation again and again on the same file.
                    Log.RestoreRejected(_logger, _assignment.JobId, Generation, record.CheckpointId, e.Message);
                    Call(_job.RejectRestore(new RestoreRejection(Generation, record.CheckpointId, Rank, e.Problem)));
                    return Ended(TrainerOutcome.Stopped, $"checkpoint {record.CheckpointId} failed verification ({e.Problem}); the job re-forms from an earlier one");
                }

                Log.Restored(_logger, _assignment.JobId, Generation, record.CheckpointId, record.Epoch, record.GlobalStep);
            }

            StateSync.BroadcastFrom(step, source, includeMomentum: true, token);
            step.Optimizer.Steps = plan.StartGlobalStep;
            var deviceName = _device.ToString();
            Log.Started(_logger, _assignment.JobId, Generation, Rank, _assignment.WorldSize, deviceName, plan.Epoch, plan.StartGlobalStep);
            if (_assignment.StartPaused)
            {
                // Formed while the job is paused: weights are in sync, but no step runs until Resume.
                _control.RequestPause();
                _onState(WorkerTrainerState.Paused, $"paused: generation {Generation} formed while the job was paused");
                if (!_control.WaitWhilePaused())
                {
                    return Ended(TrainerOutcome.Stopped, $"stopped while paused, before the first step of generation {Generation}: {_control.StopReason ?? "asked to stop"}");
                }
            }

            var completed = false;
            try
            {
                var result = TrainEpochs(step, data, plan, lastStep, token);
                completed = result.Outcome == TrainerOutcome.Completed;
                return result;
            }
            finally
            {
                if (!completed)
                {
                    Keep(step, lastStep); // stopped, failed or thrown: the next generation may start from it
                }
            }
        }
        catch (Exception e) when (group is DeviceCollective device)
        {
            device.Fail(e); // before leaving, so the worker's other devices learn the cause, not only that this one left
            throw;
        }
        finally
        {
            membership.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>The flat ring with this rank as a member, or (hierarchical reduction) this device's place in its
    /// worker's <see cref="LocalDeviceGroup"/>, whose device 0 joins the ring of workers on its own endpoint.</summary>
    private (ICollective Group, IAsyncDisposable Membership) Join(CancellationToken token)
    {
        if (_localDevices is not { } local)
        {
            var flat = CollectiveGroup.JoinAsync(_registry, Ring(Rank, _assignment.WorldSize, _peerAddresses), _loggerFactory, token).GetAwaiter().GetResult();
            return (flat, flat);
        }

        var workers = Ring(local.WorkerIndex, local.Workers, WorkerRing.Addresses(_peerAddresses, local.LocalDevices));
        Func<CancellationToken, Task<CollectiveGroup>>? joinRing = _assignment.LocalRank == 0
            ? ct => CollectiveGroup.JoinAsync(_registry, workers, _loggerFactory, ct)
            : null;
        var device = local.JoinAsync(_assignment.LocalRank, joinRing, _options.ConnectTimeout + _options.CollectiveTimeout, token).GetAwaiter().GetResult();
        return (device, device);
    }

    private RingOptions Ring(int rank, int worldSize, IReadOnlyList<string> peers) => new()
    {
        JobId = _assignment.JobId,
        Generation = Generation,
        Rank = rank,
        WorldSize = worldSize,
        Peers = peers,
        Secret = _assignment.CollectiveSecret,
        ConnectTimeout = _options.ConnectTimeout,
        OperationTimeout = _options.CollectiveTimeout,
        TraceEveryNthOperation = _options.CollectiveTraceEveryNthOperation,
        SharedMemory = _options.SharedMemory,
        TrustedCertificatePath = _options.TrustedCertificatePath,
        Compression = WireFormat.Of(_assignment.Spec.Communication.Compression),
    };

    /// <summary>Keeps this rank's state after its last completed step in host memory for the next generation
    /// (<see cref="RetainedSlot"/>); never masks the way the run ended.</summary>
    private void Keep(DataParallelStep step, LastCompletedStep lastStep)
    {
        if (_memory is null || lastStep.Position is not { } position)
        {
            return;
        }

        try
        {
            lastStep.PutBackBuffers();
            var snapshot = CheckpointSnapshot.Take(step, position, _assignment.Spec.Model.Name);
            _memory.Keep(new RetainedTraining(snapshot, new RetainedState
            {
                JobId = _assignment.JobId,
                DeviceId = _assignment.DeviceId,
                Generation = Generation,
                Rank = Rank,
                Epoch = position.Epoch,
                Cursor = position.Cursor,
                GlobalStep = position.GlobalStep,
            }));
            Log.Kept(_logger, _assignment.JobId, Generation, Rank, position.Epoch, position.Cursor, position.GlobalStep);
        }
        catch (Exception e)
        {
            Log.KeepFailed(_logger, _assignment.JobId, Generation, Rank, e.Message);
        }
    }

    private TrainerResult TrainEpochs(DataParallelStep step, TrainingData data, EpochPlan plan, LastCompletedStep lastStep, CancellationToken token)
    {
        using var saver = new CheckpointSaver(_assignment, _job, _checkpoints, _options.CallTimeout, _logger, () => _telemetry!.Tags, token);
        var cadence = new CheckpointCadence(_assignment.Spec.Checkpoint);
        var result = TrainEpochs(step, data, plan, saver, cadence, lastStep, token);
        if (result.Outcome != TrainerOutcome.Failed)
        {
            // The last checkpoint belongs to the run: it commits before this rank says it is done.
            saver.Drain(token);
        }

        return result;
    }

    private TrainerResult TrainEpochs(DataParallelStep step, TrainingData data, EpochPlan plan, CheckpointSaver saver, CheckpointCadence cadence, LastCompletedStep lastStep, CancellationToken token)
    {
        var loaderOptions = new DataLoaderOptions { DecodeThreads = _options.DecodeThreads, Output = LoaderOutput.Pixels, Normalisation = data.Normalisation };
        using var loader = new DataLoader(data.Train, data.TrainTransform, plan.PerRankBatch, unchecked((int)plan.Seed), loaderOptions);
        while (true)
        {
            _onState(WorkerTrainerState.Training, $"epoch {plan.Epoch + 1} of {plan.TotalEpochs}");
            using (var span = StartSpan(PlateauActivities.Epoch, plan.Epoch, plan.TraceParent))
            {
                var trainStart = Stopwatch.GetTimestamp();
                var (train, stopped) = TrainEpoch(step, data, loader, plan, saver, cadence, lastStep, token);
                var trainSeconds = Stopwatch.GetElapsedTime(trainStart).TotalSeconds;
                if (stopped)
                {
                    span?.SetTag("plateau.stopped", true);
                    return Ended(TrainerOutcome.Stopped, $"stopped after step {Meter.GlobalStep}: {_control.StopReason ?? "a rank asked to stop"}");
                }

                EvalCounts? eval = null;
                if (plan.Evaluate)
                {
                    _onState(WorkerTrainerState.Training, $"evaluating epoch {plan.Epoch + 1}");
                    using var evaluation = StartSpan(PlateauActivities.Evaluate, plan.Epoch);
                    var evalStart = Stopwatch.GetTimestamp();
                    eval = Evaluate(step, data, plan, loaderOptions, token);
                    PlateauMetrics.EvaluationDuration.Record(Stopwatch.GetElapsedTime(evalStart).TotalSeconds, _telemetry!.Tags);
                }

                Call(_job.ReportEpoch(new EpochReport { Generation = Generation, Rank = Rank, Epoch = plan.Epoch, GlobalStep = plan.EndGlobalStep, Train = train, Eval = eval, TrainSeconds = trainSeconds }));
            }

            var next = WaitForPlan(plan.Epoch + 1, token);
            if (next is not null)
            {
                // The job closed the epoch (every report in, the schedule decided): the state now stands at the next one's start.
                lastStep.Record(new CheckpointPosition(_assignment.JobId, Generation, next.Epoch, next.Cursor, next.StartGlobalStep));
            }

            if (Rank == 0 && (plan.Checkpoint || cadence.IsDue(plan.EndGlobalStep)))
            {
                saver.Offer(step, new CheckpointPosition(_assignment.JobId, Generation, plan.Epoch + 1, 0, plan.EndGlobalStep), plan.TraceParent);
                cadence.Taken();
            }

            if (next is null)
            {
                return Ended(TrainerOutcome.Completed, $"training complete after epoch {plan.Epoch + 1} (step {plan.EndGlobalStep})");
            }

            plan = next;
        }
    }

    private (TrainCounts Counts, bool Stopped) TrainEpoch(DataParallelStep step, TrainingData data, DataLoader loader, EpochPlan plan, CheckpointSaver saver, CheckpointCadence cadence, LastCompletedStep lastStep, CancellationToken token)
    {
        if (plan.PerRankBatch * plan.WorldSize != plan.GlobalBatch || plan.WorldSize != _assignment.WorldSize)
        {
            throw new InvalidOperationException($"epoch plan {plan.Epoch}: global batch {plan.GlobalBatch} is not {plan.WorldSize} × {plan.PerRankBatch} for world size {_assignment.WorldSize}");
        }

        var sampler = new DistributedSampler(data.Train.Count, plan.GlobalBatch, unchecked((int)plan.Seed));
        var steps = plan.EndGlobalStep - plan.StartGlobalStep;
        var counts = TrainCounts.Zero;
        Meter.SetPosition(plan.Epoch, plan.StartGlobalStep, plan.LearningRateAt(plan.StartGlobalStep));
        var batches = loader.ReadEpoch(sampler, plan.Epoch, plan.Cursor, Rank, plan.WorldSize, token).GetAsyncEnumerator(token);
        try
        {
            for (long s = 0; s < steps; s++)
            {
                var waitStart = Stopwatch.GetTimestamp();
                if (!batches.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                {
                    throw new InvalidOperationException($"the data ran out after {s} of {steps} steps of epoch {plan.Epoch}");
                }

                var dataWait = Stopwatch.GetElapsedTime(waitStart);
                var batch = batches.Current;
                var globalStep = plan.StartGlobalStep + s;
                var lr = plan.LearningRateAt(globalStep);
                StepOutcome outcome;
                using (var images = batch.ToDeviceNormalised(_device, data.Normalisation))
                {
                    var onDevice = _device.type == DeviceType.CPU;
                    var labels = onDevice ? batch.Labels : batch.Labels.to(_device);
                    try
                    {
                        // Only the epoch's partial last batch (spec.batch.dropLast false) has unequal shares to weight.
                        var partial = batch.Plan is { } rankBatch && rankBatch.GlobalBatchSize < plan.GlobalBatch ? rankBatch.GlobalBatchSize : (int?)null;
                        outcome = step.Step(images, labels, lr, _control.Votes, token, partial);
                    }
                    finally
                    {
                        if (!onDevice)
                        {
                            labels.Dispose();
                        }
                    }
                }

                lastStep.Record(new CheckpointPosition(_assignment.JobId, Generation, plan.Epoch, EpochSteps.CursorAfter(data.Train.Count, plan.Cursor, s + 1, plan.GlobalBatch), globalStep + 1));
                Meter.Record(plan.Epoch, globalStep + 1, lr, outcome, dataWait);
                _telemetry?.Step(outcome, dataWait, globalStep + 1, lr, plan.Epoch, EpochSteps.CursorAfter(data.Train.Count, plan.Cursor, s + 1, plan.GlobalBatch));
                if (outcome.Skipped)
                {
                    // Every rank saw the same non-finite averages and skipped alike; the epoch's counts leave the step out.
                    _nonFiniteInARow++;
                    _telemetry?.Skipped();
                    Log.SkippedNonFinite(_logger, _assignment.JobId, Generation, Rank, globalStep + 1, _nonFiniteInARow, _assignment.Spec.MaxNonFiniteSteps);
                    if (_nonFiniteInARow >= _assignment.Spec.MaxNonFiniteSteps)
                    {
                        throw new DivergedException($"the averaged gradients were NaN or infinite for {_nonFiniteInARow} steps in a row (up to step {globalStep + 1}; maxNonFiniteSteps {_assignment.Spec.MaxNonFiniteSteps}): training diverged; lower the learning rate and resume from the last checkpoint");
                    }
                }
                else
                {
                    _nonFiniteInARow = 0;
                    counts += new TrainCounts(outcome.Samples, outcome.LossSum, outcome.CorrectTop1);
                }

                if (outcome.Votes.Stop)
                {
                    return (counts, true);
                }

                if (Rank == 0 && s + 1 < steps && cadence.IsDue(globalStep + 1))
                {
                    // Mid-epoch: the cursor counts the global batches of this epoch already trained.
                    saver.Offer(step, new CheckpointPosition(_assignment.JobId, Generation, plan.Epoch, EpochSteps.CursorAfter(data.Train.Count, plan.Cursor, s + 1, plan.GlobalBatch), globalStep + 1), plan.TraceParent);
                    cadence.Taken();
                }

                if (outcome.Votes.Pause)
                {
                    _control.RequestPause();
                    _onState(WorkerTrainerState.Paused, $"paused after step {globalStep + 1}");
                    if (!_control.WaitWhilePaused())
                    {
                        return (counts, true);
                    }

                    _onState(WorkerTrainerState.Training, $"epoch {plan.Epoch + 1} of {plan.TotalEpochs}");
                }
            }
        }
        finally
        {
            batches.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        return (counts, false);
    }

    /// <summary>This rank's exact share of the validation set (contiguous, no padding) in the spec's evaluation mode; the job sums the counts.</summary>
    private EvalCounts Evaluate(DataParallelStep step, TrainingData data, EpochPlan plan, DataLoaderOptions loaderOptions, CancellationToken token)
    {
        var passes = ValidationEvaluator.Passes(data.EvalTransform, _assignment.Spec.Evaluation.Mode);
        var counts = ValidationEvaluator.Evaluate(step.Model, data.Validation, passes, data.Normalisation, _device, Rank, _assignment.WorldSize,
            _options.EvalBatchSize, unchecked((int)plan.Seed), plan.Epoch, loaderOptions, token);
        return new EvalCounts(counts.Correct1, counts.Correct5, counts.Total, counts.LossSum);
    }

    /// <summary>The plan of <paramref name="epoch"/>, or null when the job says training is over.</summary>
    private EpochPlan? WaitForPlan(int epoch, CancellationToken token)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(_options.PlanTimeout.TotalSeconds * Stopwatch.Frequency);
        var message = "";
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var result = Call(_job.GetEpochPlan(Generation, epoch));
            switch (result.Status)
            {
                case EpochPlanStatus.Ready:
                    return result.Plan ?? throw new InvalidOperationException($"the job answered Ready for epoch {epoch} without a plan");
                case EpochPlanStatus.Finished:
                    return null;
            }

            // A stop or pause requested meanwhile is voted on at the next epoch's first step, so that all
            // ranks act together; if that step never comes, the stop grace cancels the token.
            message = result.Message;
            _control.WaitForEpochReady(_options.PlanRecheckInterval, token);
        }

        throw new TimeoutException($"no plan for epoch {epoch} within {_options.PlanTimeout.TotalSeconds:0} s: {message}");
    }

    private async Task ReportProgressAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.ProgressInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var snapshot = Meter.Take();
                _telemetry?.Window(snapshot);
                try
                {
                    var ack = await _job.ReportProgress(new ProgressReport
                    {
                        Generation = Generation,
                        Rank = Rank,
                        Epoch = snapshot.Epoch,
                        GlobalStep = snapshot.GlobalStep,
                        ImagesPerSecond = snapshot.ImagesPerSecond,
                        Loss = snapshot.Loss,
                        DataWaitShare = snapshot.DataWaitShare,
                        AllReduceShare = snapshot.AllReduceShare,
                        LearningRate = snapshot.LearningRate,
                        SkippedSteps = Meter.SkippedSteps,
                        OwnSecondsPerStep = snapshot.OwnSecondsPerStep,
                    }).WaitAsync(_options.CallTimeout, stop);
                    switch (ack.Directive)
                    {
                        case WorkerDirective.Pause:
                            _control.RequestPause();
                            break;
                        case WorkerDirective.Stop:
                            _control.RequestStop(string.IsNullOrEmpty(ack.Message) ? "the job asked to stop" : ack.Message, _options.StopGrace);
                            break;
                        case WorkerDirective.Continue when _control.PauseRequested:
                            _control.Resume();
                            break;
                    }
                }
                catch (StaleGenerationException e)
                {
                    _control.RequestStop($"generation {Generation} is no longer current: {e.Message}", _options.StopGrace);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.ProgressFailed(_logger, _assignment.JobId, Generation, Rank, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the run ended
        }
    }

    private Activity? StartSpan(string name, int epoch, string? traceParent = null) => RankSpans.Start(name, _assignment, epoch, traceParent);

    private T Call<T>(Task<T> call) => call.WaitAsync(_options.CallTimeout, _control.Cancellation).GetAwaiter().GetResult();

    private void Call(Task call) => call.WaitAsync(_options.CallTimeout, _control.Cancellation).GetAwaiter().GetResult();

    private void Report(FailureReport report)
    {
        try
        {
            _job.ReportFailure(report).WaitAsync(_options.CallTimeout).GetAwaiter().GetResult();
        }
        catch (StaleGenerationException)
        {
            // the group already re-formed
        }
        catch (Exception e)
        {
            Log.ReportFailed(_logger, _assignment.JobId, Generation, Rank, e.Message);
        }
    }

    private TrainerResult Ended(TrainerOutcome outcome, string message)
    {
        _onState(outcome switch
        {
            TrainerOutcome.Failed => WorkerTrainerState.Faulted,
            _ => WorkerTrainerState.Stopped,
        }, message);
        Log.Ended(_logger, _assignment.JobId, Generation, Rank, outcome, message);
        return new TrainerResult(outcome, message, Meter.Epoch, Meter.GlobalStep);
    }

    /// <summary>Too many steps in a row had non-finite gradients: re-forming the group cannot help.</summary>
    private sealed class DivergedException(string message) : Exception(message);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} generation {Generation}: rank {Rank} skipped step {Step}: the averaged gradients are NaN or infinite ({InARow} in a row, at most {Limit})")]
        public static partial void SkippedNonFinite(ILogger logger, string jobId, long generation, int rank, long step, int inARow, int limit);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} generation {Generation}: rank {Rank} of {WorldSize} on {Device} starts at epoch {Epoch}, step {Step}")]
        public static partial void Started(ILogger logger, string jobId, long generation, int rank, int worldSize, string device, int epoch, long step);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} generation {Generation}: rank {Rank} starts from the state it kept in memory after step {Step} of generation {KeptGeneration} (epoch {Epoch})")]
        public static partial void RestoredFromMemory(ILogger logger, string jobId, long generation, int rank, long keptGeneration, int epoch, long step);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} generation {Generation}: rank {Rank} keeps its state after step {Step} in memory (epoch {Epoch}, cursor {Cursor}) for the next generation")]
        public static partial void Kept(ILogger logger, string jobId, long generation, int rank, int epoch, long cursor, long step);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} generation {Generation}: rank {Rank} could not keep its state in memory: {Problem}")]
        public static partial void KeepFailed(ILogger logger, string jobId, long generation, int rank, string problem);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} generation {Generation}: restored checkpoint {CheckpointId} (epoch {Epoch}, step {Step})")]
        public static partial void Restored(ILogger logger, string jobId, long generation, string checkpointId, int epoch, long step);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} generation {Generation}: checkpoint {CheckpointId} failed verification and is reported to the job: {Problem}")]
        public static partial void RestoreRejected(ILogger logger, string jobId, long generation, string checkpointId, string problem);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} generation {Generation}: rank {Rank} could not report progress: {Problem}")]
        public static partial void ProgressFailed(ILogger logger, string jobId, long generation, int rank, string problem);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} generation {Generation}: rank {Rank} could not report its failure: {Problem}")]
        public static partial void ReportFailed(ILogger logger, string jobId, long generation, int rank, string problem);

        [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} generation {Generation}: rank {Rank} failed")]
        public static partial void Failed(ILogger logger, string jobId, long generation, int rank, Exception exception);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} generation {Generation}: rank {Rank} stopped ({Reason}) while: {Problem}")]
        public static partial void StoppedWithError(ILogger logger, string jobId, long generation, int rank, string reason, string problem);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} generation {Generation}: rank {Rank} ended {Outcome}: {Message}")]
        public static partial void Ended(ILogger logger, string jobId, long generation, int rank, TrainerOutcome outcome, string message);
    }
}
