namespace Plateau.Worker.Training;

/// <summary>
/// Requests from the grain (or the job's progress answers) to one running trainer. Pause and stop are
/// voted on with the next step's gradients so all ranks act after the same step; a stop that cannot be
/// agreed on (a peer is gone) cancels the trainer after the grace period.
/// </summary>
public sealed class TrainerControl : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly ManualResetEventSlim _resumed = new(initialState: true);
    private volatile bool _pauseRequested;
    private volatile bool _stopRequested;
    private readonly SemaphoreSlim _epochReady = new(0, int.MaxValue);
    private Timer? _graceTimer;

    /// <summary>Cancelled when the trainer must end now (hard stop).</summary>
    public CancellationToken Cancellation => _cancel.Token;

    public bool PauseRequested => _pauseRequested;

    public bool StopRequested => _stopRequested;

    public string? StopReason { get; private set; }

    public StepVotes Votes => new(_pauseRequested, _stopRequested);

    public void RequestPause()
    {
        _pauseRequested = true;
        _resumed.Reset();
    }

    public void Resume()
    {
        _pauseRequested = false;
        _resumed.Set();
    }

    /// <summary>Asks for a clean stop at the next common step; cancels outright after <paramref name="grace"/>.</summary>
    public void RequestStop(string reason, TimeSpan grace)
    {
        if (_stopRequested)
        {
            return;
        }

        StopReason = reason;
        _stopRequested = true;
        _resumed.Set();
        _graceTimer = new Timer(_ => Cancel(), null, grace, Timeout.InfiniteTimeSpan);
    }

    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the trainer already ended
        }
    }

    /// <summary>The coordinator said the plan of an epoch is ready: wakes the trainer waiting at the boundary.</summary>
    public void EpochReady(int epoch)
    {
        _ = epoch; // the trainer asks for the epoch it waits for; a notice only says "ask now"
        _epochReady.Release();
    }

    /// <summary>Waits until the coordinator says a plan is ready, at most <paramref name="recheck"/>; false on timeout.</summary>
    public bool WaitForEpochReady(TimeSpan recheck, CancellationToken token) => _epochReady.Wait(recheck, token);

    /// <summary>Blocks the trainer thread while paused; returns false when it must stop instead.</summary>
    public bool WaitWhilePaused()
    {
        while (_pauseRequested && !_stopRequested)
        {
            try
            {
                _resumed.Wait(TimeSpan.FromMilliseconds(500), _cancel.Token);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return !_stopRequested;
    }

    public void Dispose()
    {
        _graceTimer?.Dispose();
        _cancel.Dispose();
        _resumed.Dispose();
        _epochReady.Dispose();
    }
}
