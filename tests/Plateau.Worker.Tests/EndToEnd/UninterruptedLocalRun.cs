using Plateau.Worker.Tests.Support;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// The reference for the fault tests' exact-resume checks: <see cref="LocalFaultTests.ShortJob"/> run once to the
/// end with nothing killed, its final checkpoint kept until the class is done.
/// </summary>
public sealed class UninterruptedLocalRun : IAsyncLifetime
{
    private LocalRun? _run;

    internal CheckpointContents Final { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _run = LocalRun.Start(Path.Combine(Path.GetTempPath(), "plateau-local-reference-" + Guid.NewGuid().ToString("N")[..8]), LocalFaultTests.ShortJob);
        var exit = await _run.WaitForExitAsync(LocalFaultTests.RunLimit);
        Assert.True(exit == 0, $"the uninterrupted reference run exited {exit}:\n{_run.Output}\n{_run.Logs()}");
        Final = CheckpointContents.Newest(Path.Combine(_run.Folder, "checkpoints"));
    }

    public Task DisposeAsync()
    {
        Final?.Dispose();
        _run?.Dispose();
        return Task.CompletedTask;
    }
}
