using Plateau.Cli.Commands.Jobs;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>A watch outlives a coordinator restart: it reopens the stream after the last event it printed.</summary>
public sealed class WatchReconnectTests
{
    [Fact]
    public async Task WatchReconnectsAfterACoordinatorRestartWithoutRepeatingLines()
    {
        var host = new CoordinatorFixture();
        await host.InitializeAsync();
        try
        {
            var spec = CliRunner.WriteSpec(host.SpecDirectory, "restart.yaml", CliRunner.TwoWorkerSpec());
            Assert.Equal(JobExitCodes.Ok, (await CliRunner.RunAsync("job", "submit", spec, "--name", "cli-restart", "--coordinator", host.Address, "--token", CoordinatorFixture.Token)).ExitCode);
            var watching = CliRunner.RunAsync("job", "watch", "cli-restart", "--coordinator", host.Address, "--token", CoordinatorFixture.Token);
            await Task.Delay(1000);

            await host.StopAsync();
            await host.StartAsync();
            var cancel = await CliRunner.RunAsync("job", "cancel", "cli-restart", "--coordinator", host.Address, "--token", CoordinatorFixture.Token);
            var (exitCode, output, error) = await watching.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(JobExitCodes.Ok, cancel.ExitCode);
            Assert.Equal(JobExitCodes.JobCancelled, exitCode);
            Assert.Contains("lost the watch stream", error, StringComparison.Ordinal);
            Assert.Single(output.Split('\n'), line => line.Contains("transition", StringComparison.Ordinal) && line.Contains("Pending → Rendezvous", StringComparison.Ordinal));
            Assert.Single(output.Split('\n'), line => line.Contains("transition", StringComparison.Ordinal) && line.Contains("Rendezvous → Cancelled", StringComparison.Ordinal));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
