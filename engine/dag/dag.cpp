#include "engine/dag/dag.hpp"
