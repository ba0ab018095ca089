using Plateau.Contracts.Specs;

namespace Plateau.Worker.Training;

/// <summary>
/// When rank 0 checkpoints inside an epoch (<c>spec.checkpoint.everySteps</c>, <c>everyMinutes</c>): after
/// every k-th global step, or once the minutes passed since the last checkpoint. Epoch-end checkpoints come
/// from the plan; each checkpoint, wherever it came from, restarts the clock.
/// </summary>
public sealed class CheckpointCadence
{
    private readonly int _everySteps;
    private readonly TimeSpan? _every;
    private readonly TimeProvider _time;
    private long _last;

    public CheckpointCadence(CheckpointPolicySpec policy, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _everySteps = policy.EverySteps;
        _every = policy.EveryMinutes > 0 ? TimeSpan.FromMinutes(policy.EveryMinutes) : null;
        _time = time ?? TimeProvider.System;
        _last = _time.GetTimestamp();
    }

    public bool Enabled => _everySteps > 0 || _every is not null;

    /// <summary>Whether a checkpoint is due once <paramref name="completedSteps"/> global steps are done.</summary>
    public bool IsDue(long completedSteps) =>
        (_everySteps > 0 && completedSteps > 0 && completedSteps % _everySteps == 0)
        || (_every is { } every && _time.GetElapsedTime(_last) >= every);

    /// <summary>A checkpoint was taken: the minutes count from now.</summary>
    public void Taken() => _last = _time.GetTimestamp();
}
