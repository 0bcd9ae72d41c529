# pcibind(8) completion                                      -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# Commands, options, and selectors: PCI addresses from /sys/bus/pci/devices
# (under --root DIR when given) and section names from the configuration.
# shellcheck disable=SC2207 # COMPREPLY=($(compgen ...)) is the completion idiom: words never hold blanks

_pcibind_root()
{
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == --root ]]; then
			printf '%s' "${COMP_WORDS[i + 1]}"
			return
		elif [[ ${COMP_WORDS[i]} == --root=* ]]; then
			printf '%s' "${COMP_WORDS[i]#--root=}"
			return
		fi
	done
}

_pcibind_sections()
{
	local root=$1 f
	for f in "$root/etc/pcibind/pcibind.conf" "$root"/etc/pcibind/conf.d/*.conf; do
		[[ -r $f ]] || continue
		sed -n 's/^[[:space:]]*\[\([A-Za-z_][A-Za-z0-9_.-]*\)\][[:space:]]*$/\1/p' "$f"
	done | grep -vx pcibind
}

_pcibind_addresses()
{
	local root=$1 d
	for d in "$root"/sys/bus/pci/devices/*; do
		[[ -e $d ]] && printf '%s\n' "${d##*/}"
	done
}

_pcibind()
{
	local cur prev words cword
	_init_completion -s || return

	local commands="setup status bind unbind restore apply generate check hook help"
	local opts="--root --dry-run --json --force --driver --timeout --verbose --quiet --help --version"
	local cmd="" i root

	case $prev in
	--root)
		_filedir -d
		return
		;;
	--driver)
		COMPREPLY=($(compgen -W "vfio-pci pci-stub" -- "$cur"))
		return
		;;
	--timeout | --name)
		return
		;;
	--vm)
		COMPREPLY=($(compgen -W "$(cd "$(_pcibind_root)/etc/pve/qemu-server" 2>/dev/null && printf '%s\n' *.conf | sed -n 's/\.conf$//p')" -- "$cur"))
		return
		;;
	--domain)
		COMPREPLY=($(compgen -W "$(cd "$(_pcibind_root)/etc/libvirt/qemu" 2>/dev/null && printf '%s\n' *.xml | sed -n 's/\.xml$//p')" -- "$cur"))
		return
		;;
	esac
	[[ $cur == --root=* ]] && { cur=${cur#--root=}; _filedir -d; return; }

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--root | --driver | --timeout | --vm | --domain | --name) ((i++)) ;;
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	root=$(_pcibind_root)
	root=${root%/}
	case $cmd in
	setup)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--name --boot --no-boot --remove --relocate --yes --driver --dry-run --force --json --root --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_pcibind_sections "$root") $(_pcibind_addresses "$root")" -- "$cur"))
			__ltrim_colon_completions "$cur"
		fi
		;;
	status)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--tree $opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_pcibind_sections "$root") $(_pcibind_addresses "$root")" -- "$cur"))
			__ltrim_colon_completions "$cur"
		fi
		;;
	bind | unbind | restore)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_pcibind_sections "$root") $(_pcibind_addresses "$root")" -- "$cur"))
			__ltrim_colon_completions "$cur"
		fi
		;;
	apply)
		COMPREPLY=($(compgen -W "--udev --json --dry-run --root --force --verbose --quiet --help" -- "$cur"))
		;;
	generate)
		COMPREPLY=($(compgen -W "--write --remove --no-initramfs --dry-run --force --json --root --help" -- "$cur"))
		;;
	check)
		COMPREPLY=($(compgen -W "--vm --domain --json --root --help" -- "$cur"))
		;;
	hook)
		[[ ${words[cword - 1]} == hook || ${words[cword - 1]} == -* ]] &&
			COMPREPLY=($(compgen -W "proxmox libvirt --dry-run --json" -- "$cur"))
		;;
	*)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		;;
	esac
} &&
	complete -F _pcibind pcibind

# ex: filetype=sh
