using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Plateau.Cluster;
using Plateau.Cluster.Reminders;
using Plateau.Coordinator.Tests.Api;

namespace Plateau.Coordinator.Tests.Storage;

public sealed class CoordinatorReminderTableGrainTests
{
    [Fact]
    public async Task ASiloWhoseRemindersGoToTheCoordinatorRefusesToHostTheCoordinatorsTableInsteadOfCallingItself()
    {
        // A Localhost silo without the coordinator's file table that still has the grain class (worker hosts leave it
        // out; this process has it): its table forwards to the grain, so the grain would call itself without end.
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plateau:Cluster:ClusterId"] = "reminder-grain-" + Guid.NewGuid().ToString("N")[..6],
            ["Plateau:Cluster:SiloPort"] = ApiHost.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Plateau:Cluster:GatewayPort"] = ApiHost.FreePort().ToString(CultureInfo.InvariantCulture),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Critical);
        builder.UseOrleans(silo => silo.UsePlateauCluster(builder.Configuration));
        using var host = builder.Build();
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
