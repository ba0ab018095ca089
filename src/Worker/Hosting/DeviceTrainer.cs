using Microsoft.Extensions.Logging;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Workers;
using Plateau.Worker.Checkpointing;
using Plateau.Worker.Training;
using TorchSharp;

namespace Plateau.Worker.Hosting;

/// <summary>
/// One device of this worker: owns the dedicated trainer thread (never the Orleans scheduler) and
/// the control of the run on it. Its WorkerGrain forwards start, pause, resume and stop here and reads
/// the status; requests for another generation than the running one are ignored (invariant 2). It also
/// keeps what an ended generation's trainer left in memory (<see cref="RetainedSlot"/>) until the next starts.
/// </summary>
public sealed partial class DeviceTrainer
{
    private readonly Lock _lock = new();
    private readonly Func<Assignment, IJobChannel> _jobFor;
    private readonly WorkerDataPlane _dataPlane;
    private readonly TrainerOptions _trainerOptions;
    private readonly TrainingDataCache _datasets;
    private readonly ICheckpointTransport _checkpoints;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly RetainedSlot _memory = new();
    private readonly LocalDeviceGroups _localGroups;
    private Thread? _thread;
    private TrainerControl? _control;
    private RankTrainer? _trainer;
    private Assignment? _assignment;
    private WorkerTrainerState _state = WorkerTrainerState.Idle;
    private string _message = "waiting for an assignment";

    public DeviceTrainer(string workerId, DeviceInfo device, torch.Device torchDevice, int localRank, WorkerDataPlane dataPlane,
        Func<Assignment, IJobChannel> jobFor, TrainerOptions trainerOptions, TrainingDataCache datasets, ICheckpointTransport checkpoints, ILoggerFactory loggerFactory,
        LocalDeviceGroups? localGroups = null)
    {
        _localGroups = localGroups ?? new LocalDeviceGroups();
        WorkerId = workerId;
        Device = device;
        TorchDevice = torchDevice;
        LocalRank = localRank;
        _dataPlane = dataPlane;
        _jobFor = jobFor;
        _trainerOptions = trainerOptions;
        _datasets = datasets;
        _checkpoints = checkpoints;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<DeviceTrainer>();
    }

    public string WorkerId { get; }

    public DeviceInfo Device { get; }

    public torch.Device TorchDevice { get; }

    public int LocalRank { get; }

    /// <summary>The state kept in memory from the generation this device last trained, or null.</summary>
    public RetainedState? Retained => _memory.State;

    /// <summary>Drops what this device kept in memory from <paramref name="jobId"/> once its trainer has stopped: the job
    /// ended, nobody resumes from that copy, and a pooled worker moves on to another job.</summary>
    public void DropRetained(string jobId)
    {
        lock (_lock)
        {
            if (_memory.State?.JobId == jobId && _thread is not { IsAlive: true })
            {
                _memory.Clear();
            }
        }
    }

    /// <summary>True while a trainer thread is alive.</summary>
    public bool IsRunning
    {
        get
        {
            lock (_lock)
            {
                return _thread is { IsAlive: true };
            }
        }
    }

    public WorkerStatus Status()
    {
        lock (_lock)
        {
            return new WorkerStatus
            {
                WorkerId = WorkerId,
                DeviceId = Device.DeviceId,
                State = _state,
                JobId = _assignment?.JobId,
                Generation = _assignment?.Generation ?? 0,
                Rank = _assignment?.Rank ?? -1,
                Epoch = _trainer?.Meter.Epoch ?? 0,
                GlobalStep = _trainer?.Meter.GlobalStep ?? 0,
                Message = _message,
            };
        }
    }

    /// <summary>Starts the trainer for <paramref name="assignment"/> on a new thread; a run of an older generation is stopped first.</summary>
    public void Start(Assignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (assignment.WorkerId != WorkerId || assignment.DeviceId != Device.DeviceId || assignment.LocalRank != LocalRank)
        {
            throw new ArgumentException($"assignment for {assignment.WorkerId}/{assignment.DeviceId} (local rank {assignment.LocalRank}) delivered to {WorkerId}/{Device.DeviceId} (local rank {LocalRank})", nameof(assignment));
        }

        lock (_lock)
        {
            if (_assignment is { } current && current.JobId == assignment.JobId && current.Generation >= assignment.Generation && _thread is { IsAlive: true })
            {
                LogIgnored(_logger, WorkerId, Device.DeviceId, "start", assignment.Generation, current.Generation);
                return;
            }

            var previous = _thread;
            _control?.RequestStop($"replaced by generation {assignment.Generation}", _trainerOptions.StopGrace);
            if (assignment.ResumeFromPeer?.SourceRank != assignment.Rank)
            {
                _memory.Clear(); // the new generation starts from elsewhere: the kept copy is out of date
            }

            var addresses = assignment.Peers.OrderBy(p => p.Rank).Select(WorkerDataPlane.AddressOf).ToList();
            var control = new TrainerControl();
            var trainer = new RankTrainer(assignment, TorchDevice, _dataPlane.Registry(LocalRank), addresses, _jobFor(assignment),
                _trainerOptions, control, _loggerFactory, (state, message) => OnState(control, state, message), _datasets, _checkpoints, _memory,
                _localGroups.For(assignment, addresses, _trainerOptions));
            _assignment = assignment;
            _control = control;
            _trainer = trainer;
            _state = WorkerTrainerState.Starting;
            _message = $"generation {assignment.Generation}: rank {assignment.Rank} of {assignment.WorldSize}";
            _thread = new Thread(() => RunThread(previous, trainer, control))
            {
                IsBackground = true,
                Name = $"plateau-trainer-{Device.DeviceId}",
            };
            _thread.Start();
        }
    }

    public void Pause(PauseRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Current(request.JobId, request.Generation, "pause") is { } control)
        {
            control.RequestPause();
        }
    }

    public void Resume(ResumeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Current(request.JobId, request.Generation, "resume") is { } control)
        {
            control.Resume();
        }
    }

    public void EpochReady(EpochReadyNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        if (Current(notice.JobId, notice.Generation, "epoch ready") is { } control)
        {
            control.EpochReady(notice.Epoch);
        }
    }

    public void Stop(StopRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Current(request.JobId, request.Generation, "stop") is { } control)
        {
            control.RequestStop(request.Reason, _trainerOptions.StopGrace);
        }
    }

    /// <summary>Stops whatever runs and waits for the thread (process shutdown).</summary>
    public bool StopAndWait(string reason, TimeSpan timeout)
    {
        Thread? thread;
        lock (_lock)
        {
            _control?.RequestStop(reason, _trainerOptions.StopGrace);
            thread = _thread;
        }

        var stopped = thread is null || thread.Join(timeout);
        if (stopped)
        {
            _memory.Clear();
        }

        return stopped;
    }

    private TrainerControl? Current(string jobId, long generation, string operation)
    {
        lock (_lock)
        {
            if (_assignment is { } current && current.JobId == jobId && current.Generation == generation)
            {
                return _control;
            }

            LogIgnored(_logger, WorkerId, Device.DeviceId, operation, generation, _assignment?.Generation ?? 0);
            return null;
        }
    }

    private void RunThread(Thread? previous, RankTrainer trainer, TrainerControl control)
    {
        try
        {
            // The previous generation's run releases the device first (it was told to stop).
            if (previous is not null && !previous.Join(_trainerOptions.StopGrace + TimeSpan.FromSeconds(30)))
            {
                LogPreviousStuck(_logger, WorkerId, Device.DeviceId);
            }

            trainer.Run(); // the outcome reaches the job through the trainer's own reports and OnState
        }
        catch (Exception e)
        {
            LogCrashed(_logger, WorkerId, Device.DeviceId, e);
            OnState(control, WorkerTrainerState.Faulted, e.Message);
        }
    }

    private void OnState(TrainerControl control, WorkerTrainerState state, string message)
    {
        lock (_lock)
        {
            if (ReferenceEquals(control, _control))
            {
                _state = state;
                _message = message;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{WorkerId}/{DeviceId}: {Operation} for generation {Generation} ignored (current generation {Current})")]
    private static partial void LogIgnored(ILogger logger, string workerId, string deviceId, string operation, long generation, long current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{WorkerId}/{DeviceId}: the previous trainer did not stop in time; starting the new generation anyway")]
    private static partial void LogPreviousStuck(ILogger logger, string workerId, string deviceId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{WorkerId}/{DeviceId}: trainer thread crashed")]
    private static partial void LogCrashed(ILogger logger, string workerId, string deviceId, Exception exception);
}
