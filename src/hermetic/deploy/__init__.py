"""The outer layers: devcontainer, Kubernetes and CI from the same lock.

`devcontainer`, `k8s` and `ci` build their documents as data; `affinity` turns a CUDA
requirement into node affinity on NVIDIA GPU Feature Discovery labels; `imageref` pins images
by digest; `written` writes generated files without clobbering a user's edits; `templates`
holds the projects `hermetic init --template` scaffolds. The use cases that compose them
(read the project, pin the image, write the files) are `hermetic.project.deploy` and
`hermetic.project.scaffold`; the tour's steps are `hermetic.tour.deploy_steps`.
"""
