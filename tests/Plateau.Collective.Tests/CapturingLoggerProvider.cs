using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Plateau.Collective.Tests;

/// <summary>Keeps every formatted log message, for tests that check what was logged.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentBag<string> Messages { get; } = [];

    public ILogger CreateLogger(string categoryName) => new Capturing(Messages);

    public void Dispose()
    {
    }

    private sealed class Capturing(ConcurrentBag<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Add(formatter(state, exception));
    }
}
