using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Plateau.Kubernetes;

public static class KubernetesHostingExtensions
{
    private const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>
    /// The TrainingJob controller, when <c>Plateau:Kubernetes:Enabled</c> is true: the in-cluster
    /// Kubernetes client, the JobGrain-backed job control and the resync loop. Settings are validated here.
    /// </summary>
    public static TBuilder AddTrainingJobController<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(TrainingJobControllerOptions.SectionName).Get<TrainingJobControllerOptions>() ?? new();
        var problems = new TrainingJobControllerOptionsValidator().Validate(null, options);
        if (problems.Failed)
        {
            throw new OptionsValidationException(TrainingJobControllerOptions.SectionName, typeof(TrainingJobControllerOptions), problems.Failures);
        }

        if (!options.Enabled)
        {
            return builder;
        }

        var ns = options.Namespace.Length > 0 ? options.Namespace
            : File.Exists(ServiceAccountNamespaceFile) ? File.ReadAllText(ServiceAccountNamespaceFile).Trim()
            : throw new OptionsValidationException(TrainingJobControllerOptions.SectionName, typeof(TrainingJobControllerOptions),
                [$"{TrainingJobControllerOptions.SectionName}:Namespace is required outside a pod ({ServiceAccountNamespaceFile} does not exist)"]);
        builder.Services.AddOptions<TrainingJobControllerOptions>().BindConfiguration(TrainingJobControllerOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IKubernetes>(_ => new k8s.Kubernetes(KubernetesClientConfiguration.InClusterConfig()));
        builder.Services.AddSingleton<ITrainingJobApi>(sp => new KubernetesTrainingJobApi(sp.GetRequiredService<IKubernetes>(), ns));
        builder.Services.AddSingleton<IJobControl, GrainJobControl>();
        builder.Services.AddSingleton<TrainingJobReconciler>();
        builder.Services.AddHostedService<TrainingJobController>();
        return builder;
    }
}
