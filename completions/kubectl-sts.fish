# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_sts_global_optspecs
    string join \n kubeconfig= context= cluster= user= n/namespace= request-timeout= color= h/help V/version
end

function __fish_kubectl_sts_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_sts_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_sts_using_subcommand
    set -l cmd (__fish_kubectl_sts_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, several paths merged, then ~/.kube/config, then in-cluster)' -r -F
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -s n -l namespace -d 'The namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -l request-timeout -d 'How long to wait for a single request ("0" = no limit; e.g. 5s, 1m)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -l color -d 'When to colour output' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -f -a "status" -d 'Show a StatefulSet ordinal by ordinal, a DaemonSet node by node, or every set in the namespace'
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -f -a "canary" -d 'Roll out a StatefulSet change as a partitioned canary, step by step'
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -f -a "prune-pvcs" -d 'Delete PersistentVolumeClaims left behind by scale-down, safely'
complete -c kubectl-sts -n "__fish_kubectl_sts_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with more columns'
json\t'JSON document (versioned schema)'
yaml\t'YAML document (same schema as JSON)'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l fail-on -d 'Exit 1 when findings at or above this level exist' -r -f -a "warning\t'Exit 1 when any warning or error is found'
error\t'Exit 1 when any error is found'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l cluster-domain -d 'Cluster DNS domain used for the pods\' stable names' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l node -d 'Show only this node (DaemonSets)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, several paths merged, then ~/.kube/config, then in-cluster)' -r -F
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -s n -l namespace -d 'The namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l request-timeout -d 'How long to wait for a single request ("0" = no limit; e.g. 5s, 1m)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l color -d 'When to colour output' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -s A -l all-namespaces -d 'List sets in every namespace (only without a NAME)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -s w -l watch -d 'Keep watching and re-render on every change'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -l only-problems -d 'Show only nodes and findings with a problem (DaemonSets)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l image -d 'Change a container\'s image, CONTAINER=IMAGE (repeatable), like kubectl set image' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l patch-file -d 'A strategic-merge patch of the pod template (YAML or JSON)' -r -F
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l steps -d 'Steps as pod counts or percentages of the pods above the floor, ending at 100%' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l soak -d 'How long every updated pod must stay Ready, without restarts, before a step counts as done' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l timeout -d 'How long an updated pod may take to become Ready (and an abort to finish)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l floor -d 'With --adopt: the partition the user had before the held change (pods below it are never touched)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -s o -l output -d 'Output format' -r -f -a "text\t'Human-readable lines'
json\t'One JSON event per line'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l dry-run -d 'Show what would be done and change nothing (=server: let the API server validate the writes)' -r -f -a "client\t'Print the plan; send nothing that changes state'
server\t'Send the writes with the server\'s dryRun=All'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, several paths merged, then ~/.kube/config, then in-cluster)' -r -F
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -s n -l namespace -d 'The namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l request-timeout -d 'How long to wait for a single request ("0" = no limit; e.g. 5s, 1m)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l color -d 'When to colour output' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l allow-big-steps -d 'Accept steps that update every pod at once, or more than half of them in the first step'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l auto -d 'Continue between steps without asking (implies --yes)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -s y -l yes -d 'Start, promote, pause or abort without a confirmation prompt'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l abort -d 'Roll back to the revision the canary started from, and unstick pods'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l discard-changes -d 'With --abort: discard changes made to the pod template outside the canary'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l promote -d 'Finish the remaining steps at once (a running session does it; otherwise this one)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l pause -d 'Ask the session running the canary to stop between steps'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l no-auto-abort -d 'When the health gate fails, stop (exit 1) instead of aborting'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l adopt -d 'Adopt a change already applied and held by a partition (no --image/--patch-file)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l allow-autoscaler -d 'Start even though a HorizontalPodAutoscaler targets the StatefulSet'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l force-conflicts -d 'Proceed although another field manager (server-side apply) owns the changed fields'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -l show-patch -d 'Show the raw patches in the plan and dry runs (always in -o json)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand canary" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l older-than -d 'Only claims at least this old (e.g. 30m, 12h, 7d)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -s l -l selector -d 'Only claims matching this label selector' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -s o -l output -d 'Output format of the plan' -r -f -a "table\t'Tables'
json\t'JSON document (apiVersion kubectl-sts/v1, kind PrunePlan)'
yaml\t'YAML document (same schema as JSON)'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l dry-run -d 'Show what would be done and change nothing (=server: let the API server validate the writes)' -r -f -a "client\t'Print the plan; send nothing that changes state'
server\t'Send the writes with the server\'s dryRun=All'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, several paths merged, then ~/.kube/config, then in-cluster)' -r -F
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -s n -l namespace -d 'The namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l request-timeout -d 'How long to wait for a single request ("0" = no limit; e.g. 5s, 1m)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l color -d 'When to colour output' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -s A -l all-namespaces -d 'Every namespace (only without a NAME)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l include-deleted -d 'Also claims of StatefulSets that no longer exist and of removed or renamed volumeClaimTemplates (weaker evidence: labels and name shape), listed separately'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l ignore-autoscaler -d 'Do not protect claims below the maxReplicas of an HPA targeting the StatefulSet'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -l include-scaled-to-zero -d 'Also claims of StatefulSets scaled to 0 (kept by default: a set at 0 replicas is often paused)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -s y -l yes -d 'Delete without asking (required without a terminal)'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand prune-pvcs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, several paths merged, then ~/.kube/config, then in-cluster)' -r -F
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand completion" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand completion" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand completion" -s n -l namespace -d 'The namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand completion" -l request-timeout -d 'How long to wait for a single request ("0" = no limit; e.g. 5s, 1m)' -r
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand completion" -l color -d 'When to colour output' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-sts -n "__fish_kubectl_sts_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
