using System.Collections.Concurrent;
using Grpc.Core;

namespace Plateau.Coordinator.Tests.Api;

internal sealed class RecordingStreamWriter<T> : IServerStreamWriter<T>
{
    public ConcurrentQueue<T> Messages { get; } = new();

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return WriteAsync(message);
    }

    public Task WriteAsync(T message)
    {
        Messages.Enqueue(message);
        return Task.CompletedTask;
    }
}
