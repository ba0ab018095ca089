using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Plateau.Models.Runtime;

namespace Plateau.Worker.Hosting;

public static class WorkerHostExtensions
{
    /// <summary>
    /// A worker process: an Orleans silo in the Plateau cluster (<c>Plateau:Cluster</c>) hosting one
    /// WorkerGrain per device, the collective endpoints, and the registrar that joins the job named by
    /// <c>Plateau:Worker:JobId</c>. Settings are validated before anything starts; libtorch gets its
    /// share of the cores (<c>Plateau:Worker:Threads</c>, default cores / devices).
    /// </summary>
    public static HostApplicationBuilder AddPlateauWorker(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var worker = configuration.GetSection(WorkerOptions.SectionName).Get<WorkerOptions>() ?? new WorkerOptions();
        var problems = new WorkerOptionsValidator().Validate(null, worker);
        if (problems.Failed)
        {
            throw new OptionsValidationException(WorkerOptions.SectionName, typeof(WorkerOptions), problems.Failures);
        }

        TrainingProcess.Initialise(worker.Threads > 0 ? worker.Threads : Math.Max(1, Environment.ProcessorCount / worker.Devices));
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>());
        builder.Services.AddSingleton<WorkerDataPlane>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerDataPlane>());
        builder.Services.AddSingleton<WorkerDevices>();
        builder.Services.AddSingleton<WorkerRegistrar>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerRegistrar>());
        builder.UseOrleans(silo => silo.UseWorkerCluster(configuration.GetSection("Plateau:Cluster"), worker.WorkerId));
        return builder;
    }

    /// <summary>Localhost clustering from <c>Plateau:Cluster</c> (SiloPort, GatewayPort, PrimarySiloEndpoint, ServiceId, ClusterId).</summary>
    private static ISiloBuilder UseWorkerCluster(this ISiloBuilder silo, IConfigurationSection section, string workerId)
    {
        var siloPort = section.GetValue("SiloPort", 11112);
        var gatewayPort = section.GetValue("GatewayPort", 0);
        var primary = section["PrimarySiloEndpoint"] is { } text ? IPEndPoint.Parse(text) : new IPEndPoint(IPAddress.Loopback, 11111);
        silo.UseLocalhostClustering(siloPort, gatewayPort, primary, section["ServiceId"] ?? "plateau", section["ClusterId"] ?? "plateau");
        silo.Configure<Orleans.Configuration.SiloOptions>(o => o.SiloName = workerId);
        return silo;
    }
}
