using System.Threading.Tasks.Sources;

namespace Plateau.Collective.Ring;

/// <summary>
/// A counting signal between a stream's receive loop and its send loop ("piece p of step g has been
/// reduced, send it on"). Unlike <see cref="SemaphoreSlim"/>, a waiting sender resumes inline on the
/// releasing thread, so a received piece is reduced and forwarded by the thread that read it, with no
/// thread-pool hop in between (hand-offs are what an oversubscribed CPU makes expensive). One waiter
/// at a time.
/// </summary>
internal sealed class PieceSignal : IValueTaskSource
{
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _core; // RunContinuationsAsynchronously = false: resume inline
    private CancellationTokenRegistration _registration;
    private int _count;
    private bool _waiting;

    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                _count--;
                return ValueTask.CompletedTask;
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (_waiting)
            {
                throw new InvalidOperationException("PieceSignal supports one waiter at a time.");
            }
            _core.Reset();
            _waiting = true;
        }
        _registration = cancellationToken.UnsafeRegister(static (state, token) => ((PieceSignal)state!).Cancel(token), this);
        return new ValueTask(this, _core.Version);
    }

    public void Release()
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                _count++;
                return;
            }
            _waiting = false;
        }
        _core.SetResult(true);
    }

    private void Cancel(CancellationToken token)
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                return;
            }
            _waiting = false;
        }
        _core.SetException(new OperationCanceledException(token));
    }

    void IValueTaskSource.GetResult(short token)
    {
        _registration.Dispose();
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
