using Microsoft.Extensions.DependencyInjection;
using Plateau.Cluster.Reminders;
using Plateau.Coordinator.Tests.Api;
using Plateau.Coordinator.Tests.Hosting;

namespace Plateau.Coordinator.Tests.Storage;

public sealed class CoordinatorReminderTableGrainTests
{
    [Fact]
    public async Task ASiloWhoseRemindersGoToTheCoordinatorRefusesToHostTheCoordinatorsTableInsteadOfCallingItself()
    {
        // A Localhost silo without the coordinator's file table that still has the grain class (worker hosts leave it
        // out; this process has it): its table forwards to the grain, so the grain would call itself without end.
        using var host = ClusterSilo.Build("reminder-grain-" + Guid.NewGuid().ToString("N")[..6], ApiHost.FreePort());
        await host.StartAsync();
        try
        {
            var table = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ICoordinatorReminderTableGrain>(0);

            var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() => table.ReadRows(0, uint.MaxValue));

            Assert.Contains("this silo's reminder table forwards to the grain itself", refusal.Message, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
